/**
 * Configuration that speaks Postfix: main.cf, master.cf, the parameter registry.
 *
 * <h2>NAME</h2>
 * org.postern.config - Postern's main.cf and master.cf.
 *
 * <h2>DESCRIPTION</h2>
 * {@link org.postern.config.ConfigLocator} finds the directory; {@link org.postern.config.Config#load}
 * reads main.cf into an immutable, fully validated {@link org.postern.config.Config};
 * {@link org.postern.config.MasterCf#load} reads the services of master.cf, and
 * {@link org.postern.config.MasterService#settings} applies a service's {@code -o}
 * overrides. {@link org.postern.config.Parameters} defines every parameter once. A Config
 * never changes. There is no reload yet: the configuration is read when the application
 * is deployed, and a redeploy reads it again.
 *
 * <h2>DECISIONS</h2>
 * <ul>
 * <li>smtpd_forbid_bare_newline follows Postfix 3.9 and later: values {@code normalize}
 * (the default), {@code yes} (alias of normalize), {@code reject} and {@code no};
 * exclusions default to {@code $mynetworks}, the reject code to 550. Postfix 3.7 on this
 * machine still has {@code no} as its default; Postern defaults to the safer 3.9 value
 * because SMTP smuggling is a threat it must resist.</li>
 * <li>compatibility_level defaults to 3.6 and has no effect: the defaults are those of
 * level 3.6 and later (relay_domains empty, mynetworks by host).</li>
 * <li>mynetworks defaults to the loopback networks, not to the networks of the machine.</li>
 * <li>Unknown parameters warn but do not fail, as in Postfix; bad values of known ones
 * fail the load with file and line, as in Postfix.</li>
 * </ul>
 *
 * <h2>DIAGNOSTICS</h2>
 * Logger {@code org.postern.config}. PSTN0101 unused parameter; PSTN0102 parameter not
 * supported by Postern; PSTN0103 no main.cf; PSTN0104 no master.cf; PSTN0111 duplicate
 * table entry; PSTN0112 table line without a value.
 */
package org.postern.config;
