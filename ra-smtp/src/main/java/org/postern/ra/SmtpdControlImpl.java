package org.postern.ra;

import jakarta.resource.Referenceable;
import jakarta.resource.spi.ResourceAdapter;
import jakarta.resource.spi.ResourceAdapterAssociation;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import javax.naming.NamingException;
import javax.naming.Reference;
import org.postern.config.Config;
import org.postern.config.MasterService;
import org.postern.smtpd.api.SmtpdControl;
import org.postern.smtpd.policy.RejectCounts;

/**
 * SmtpdControlImpl - the administered object through which the application applies its
 * configuration to the adapter's listeners and reads their state (ironjacamar.xml binds
 * it at {@link SmtpdControl#JNDI_NAME}).
 */
public class SmtpdControlImpl implements SmtpdControl, ResourceAdapterAssociation, Referenceable, Serializable {
    private static final long serialVersionUID = 1L;

    private transient PosternResourceAdapter adapter;
    private Reference reference;

    @Override
    public List<String> apply(Config main, List<MasterService> services) {
        return adapter().apply(main, services);
    }

    @Override
    public List<ServiceState> services() {
        return adapter().services();
    }

    @Override
    public Map<String, Long> rejects() {
        return RejectCounts.snapshot();
    }

    private PosternResourceAdapter adapter() {
        if (adapter == null) {
            throw new IllegalStateException("PSTN2112: SmtpdControl is not associated with the resource adapter");
        }
        return adapter;
    }

    @Override
    public ResourceAdapter getResourceAdapter() {
        return adapter;
    }

    @Override
    public void setResourceAdapter(ResourceAdapter ra) {
        this.adapter = (PosternResourceAdapter) ra;
    }

    @Override
    public void setReference(Reference reference) {
        this.reference = reference;
    }

    @Override
    public Reference getReference() throws NamingException {
        return reference;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
