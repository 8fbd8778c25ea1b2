package org.postern.web;

import jakarta.ejb.EJB;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Named;
import java.util.Map;
import org.postern.admin.QueueAdmin;
import org.postern.queue.QueueState;

/** QueueSummary - the queue counts shown on the console's first page. */
@Named
@RequestScoped
public class QueueSummary {

    @EJB
    private QueueAdmin admin;

    private Map<QueueState, Long> counts;

    public Map<QueueState, Long> getCounts() {
        if (counts == null) {
            counts = admin.counts();
        }
        return counts;
    }

    public QueueState[] getStates() {
        return QueueState.values();
    }

    private java.util.List<org.postern.mail.QueueShape.Row> shape;

    /** shape - qshape deferred: recipients by domain and age. */
    public java.util.List<org.postern.mail.QueueShape.Row> getShape() {
        if (shape == null) {
            shape = admin.shape(QueueState.DEFERRED);
        }
        return shape;
    }

    public java.util.List<String> getShapeHeadings() {
        return admin.shapeHeadings();
    }
}
