package org.postern.smtp.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TlsKeys - the SMTP/LMTP client's private keys and certificates, read from the files that
 * smtp_tls_cert_file and its relatives name, or from a Java key store.
 *
 * <h2>DESCRIPTION</h2>
 * {@link #load} returns a key store (in memory, PKCS#12) with one key entry per configured
 * key: smtp_tls_chain_files (each file a private key and then its certificate chain, as
 * Postfix 3.4 reads them), else the RSA pair smtp_tls_cert_file/smtp_tls_key_file, the DSA
 * pair smtp_tls_dcert_file/smtp_tls_dkey_file and the ECDSA pair
 * smtp_tls_eccert_file/smtp_tls_eckey_file (a key file may be the certificate file), else
 * the one key entry of smtp_tls_keystore_file. The TLS engine offers the server the key
 * whose type and issuer suit its CertificateRequest.
 *
 * <p>PEM keys: "PRIVATE KEY" (PKCS#8, what OpenSSL 3 writes) of any algorithm and
 * "RSA PRIVATE KEY" (PKCS#1, older OpenSSL). Encrypted keys and "EC PRIVATE KEY" (SEC1) are
 * refused with the openssl command that converts them.
 *
 * <h2>DIAGNOSTICS</h2>
 * IOException naming the parameter, the file and what is wrong with it.
 */
public final class TlsKeys {

    /** the in-memory store's password (it never leaves this process) */
    public static final char[] PASSWORD = "postern".toCharArray();

    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+?)-----END \\1-----");

    private TlsKeys() {
    }

    /** load - the client's keys as a key store; null when none is configured. */
    public static KeyStore load(SmtpClientSettings.ClientIdentity id, String prefix) throws IOException {
        if (id.empty()) {
            return null;
        }
        try {
            KeyStore out = KeyStore.getInstance("PKCS12");
            out.load(null, null);
            if (!id.chainFiles().isEmpty()) {
                int n = 0;
                for (String f : id.chainFiles()) {
                    add(out, "chain" + n++, prefix + "tls_chain_files", f, f);
                }
            } else if (!id.certFile().isBlank() || !id.dcertFile().isBlank() || !id.eccertFile().isBlank()) {
                pair(out, "rsa", prefix + "tls_cert_file", id.certFile(), id.keyFile());
                pair(out, "dsa", prefix + "tls_dcert_file", id.dcertFile(), id.dkeyFile());
                pair(out, "ec", prefix + "tls_eccert_file", id.eccertFile(), id.eckeyFile());
            } else {
                keyStore(out, prefix, id);
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IOException(prefix + "tls key material: " + e.getMessage(), e);
        }
    }

    private static void pair(KeyStore out, String alias, String parameter, String cert, String key)
            throws IOException, GeneralSecurityException {
        if (!cert.isBlank()) {
            add(out, alias, parameter, cert, key.isBlank() ? cert : key);
        }
    }

    /* add - the certificates of certFile and the private key of keyFile as one entry */
    private static void add(KeyStore out, String alias, String parameter, String certFile, String keyFile)
            throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = new ArrayList<>();
        PrivateKey key = null;
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (String file : certFile.equals(keyFile) ? List.of(certFile) : List.of(certFile, keyFile)) {
            String text = read(parameter, file);
            Matcher m = PEM.matcher(text);
            boolean any = false;
            while (m.find()) {
                any = true;
                String type = m.group(1);
                byte[] der = Base64.getMimeDecoder().decode(m.group(2));
                if (type.equals("CERTIFICATE") && file.equals(certFile)) {
                    try (InputStream in = new ByteArrayInputStream(der)) {
                        chain.add((X509Certificate) cf.generateCertificate(in));
                    }
                } else if (type.endsWith("PRIVATE KEY") && file.equals(keyFile) && key == null) {
                    key = privateKey(parameter, file, type, der);
                }
            }
            if (!any) {
                throw new IOException(parameter + ": " + file + ": no PEM data");
            }
        }
        if (chain.isEmpty()) {
            throw new IOException(parameter + ": " + certFile + ": no certificate");
        }
        if (key == null) {
            throw new IOException(parameter + ": " + keyFile + ": no private key");
        }
        if (!chain.get(0).getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
            throw new IOException(parameter + ": the key in " + keyFile + " (" + key.getAlgorithm()
                    + ") does not belong to the certificate in " + certFile + " ("
                    + chain.get(0).getPublicKey().getAlgorithm() + ")");
        }
        out.setKeyEntry(alias, key, PASSWORD, chain.toArray(new Certificate[0]));
    }

    private static String read(String parameter, String file) throws IOException {
        try {
            return Files.readString(Path.of(file), StandardCharsets.US_ASCII);
        } catch (IOException | RuntimeException e) {
            throw new IOException(parameter + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /* privateKey - PKCS#8 of any algorithm the runtime knows, or PKCS#1 RSA wrapped into PKCS#8 */
    private static PrivateKey privateKey(String parameter, String file, String type, byte[] der) throws IOException {
        byte[] pkcs8;
        switch (type) {
            case "PRIVATE KEY" -> pkcs8 = der;
            case "RSA PRIVATE KEY" -> pkcs8 = wrapRsa(der);
            default -> throw new IOException(parameter + ": " + file + ": a \"" + type + "\" cannot be used; "
                    + "convert it with: openssl pkcs8 -topk8 -nocrypt -in " + file);
        }
        for (String alg : List.of("RSA", "EC", "DSA", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException tryNext) {
                // not this algorithm
            }
        }
        throw new IOException(parameter + ": " + file + ": the private key cannot be read");
    }

    /* wrapRsa - PKCS#8 PrivateKeyInfo around a PKCS#1 RSAPrivateKey (RFC 5208, RFC 8017 appendix A.1.2) */
    private static byte[] wrapRsa(byte[] pkcs1) {
        byte[] algorithm = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01,
                0x01, 0x01, 0x05, 0x00};
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(algorithm);
        body.write(0x04);
        body.writeBytes(length(pkcs1.length));
        body.writeBytes(pkcs1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        out.writeBytes(length(body.size()));
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static byte[] length(int n) {
        if (n < 0x80) {
            return new byte[] {(byte) n};
        }
        if (n < 0x100) {
            return new byte[] {(byte) 0x81, (byte) n};
        }
        if (n < 0x10000) {
            return new byte[] {(byte) 0x82, (byte) (n >> 8), (byte) n};
        }
        return new byte[] {(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
    }

    /* keyStore - the one key entry of smtp_tls_keystore_file (or the named one) */
    private static void keyStore(KeyStore out, String prefix, SmtpClientSettings.ClientIdentity id)
            throws IOException, GeneralSecurityException {
        Path path = Path.of(id.keystoreFile());
        String configDir = System.getProperty("jboss.server.config.dir");
        if (!path.isAbsolute() && configDir != null) {
            path = Path.of(configDir).resolve(path);
        }
        char[] password = id.keystorePassword().toCharArray();
        KeyStore store = KeyStore.getInstance(id.keystoreType());
        try (InputStream in = Files.newInputStream(path)) {
            store.load(in, password);
        } catch (IOException e) {
            throw new IOException(prefix + "tls_keystore_file: cannot load " + path + ": " + e.getMessage(), e);
        }
        List<String> keys = new ArrayList<>();
        for (String a : Collections.list(store.aliases())) {
            if (store.isKeyEntry(a)) {
                keys.add(a);
            }
        }
        String alias = id.keystoreAlias();
        if (alias.isEmpty()) {
            if (keys.size() != 1) {
                throw new IOException(prefix + "tls_keystore_alias: " + path + " holds " + keys.size()
                        + " private keys " + keys + ": name one");
            }
            alias = keys.get(0);
        } else if (!keys.contains(alias)) {
            throw new IOException(prefix + "tls_keystore_alias: " + path + " has no private key \"" + alias + "\"");
        }
        out.setKeyEntry(alias, store.getKey(alias, password), PASSWORD, store.getCertificateChain(alias));
    }
}
