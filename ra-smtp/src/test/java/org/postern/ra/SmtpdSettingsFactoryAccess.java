package org.postern.ra;

import org.postern.config.Config;
import org.postern.smtpd.SmtpdSettings;

/** SmtpdSettingsFactoryAccess - lets tests of other packages build settings as the adapter does. */
public final class SmtpdSettingsFactoryAccess {
    private SmtpdSettingsFactoryAccess() {
    }

    public static SmtpdSettings from(Config c, String serviceName) {
        return SmtpdSettingsFactory.from(c, serviceName);
    }
}
