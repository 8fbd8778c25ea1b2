package org.postern.ra;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.InvalidPropertyException;
import jakarta.resource.spi.ResourceAdapter;

/**
 * SmtpdActivationSpec - the activation of the smtpd endpoint. The listeners themselves
 * come from master.cf in the configuration directory; the optional property
 * configDirectory names another directory than ConfigLocator's.
 */
public class SmtpdActivationSpec implements ActivationSpec {
    private ResourceAdapter resourceAdapter;
    private String configDirectory;

    public String getConfigDirectory() {
        return configDirectory;
    }

    public void setConfigDirectory(String configDirectory) {
        this.configDirectory = configDirectory;
    }

    @Override
    public void validate() throws InvalidPropertyException {
        if (configDirectory != null && configDirectory.isBlank()) {
            throw new InvalidPropertyException("PSTN2002: configDirectory is blank");
        }
    }

    @Override
    public ResourceAdapter getResourceAdapter() {
        return resourceAdapter;
    }

    @Override
    public void setResourceAdapter(ResourceAdapter ra) throws ResourceException {
        this.resourceAdapter = ra;
    }
}
