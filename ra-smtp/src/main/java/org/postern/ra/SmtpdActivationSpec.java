package org.postern.ra;

import jakarta.resource.ResourceException;
import jakarta.resource.spi.ActivationSpec;
import jakarta.resource.spi.InvalidPropertyException;
import jakarta.resource.spi.ResourceAdapter;

/**
 * SmtpdActivationSpec - the activation of the smtpd endpoint. It has no properties: the
 * listeners come from master.cf as the application's configuration service hands it to
 * the adapter ({@link org.postern.smtpd.api.SmtpdControl#apply}).
 */
public class SmtpdActivationSpec implements ActivationSpec {
    private ResourceAdapter resourceAdapter;

    @Override
    public void validate() throws InvalidPropertyException {
        // nothing to validate
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
