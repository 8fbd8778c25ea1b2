package org.postern.tx;

import jakarta.annotation.Resource;
import jakarta.ejb.EJBException;
import jakarta.interceptor.AroundInvoke;
import jakarta.interceptor.InvocationContext;
import jakarta.transaction.Status;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * RolledBackIsAFailure - an interceptor for the beans that write the queue: a business method
 * whose transaction was marked rollback-only without an exception reaching the caller fails
 * with one, instead of returning as if its work had been done.
 *
 * <h2>DESCRIPTION</h2>
 * When the database connection breaks in the middle of a transaction, IronJacamar marks the
 * transaction rollback-only, and Hibernate's {@code EntityManager.find} then returns null
 * instead of throwing (Hibernate HHH-12472). A container-managed transaction that ends
 * rollback-only is rolled back quietly and the method returns normally. Together these made
 * a delivery round's outcome look recorded, and its message look gone ("removed"), when
 * nothing had been written (found by DatabaseOutageIT: the database cut away in the middle
 * of a round). With this interceptor the caller gets an {@link EJBException} and treats the
 * call as failed (the queue manager keeps the round for later, smtpd answers 451).
 *
 * <p>The check runs inside the method's transaction, after the method: a method that joined
 * its caller's transaction fails as well, which is right since that transaction cannot commit.
 */
public class RolledBackIsAFailure {

    @Resource
    private TransactionSynchronizationRegistry transactions;

    @AroundInvoke
    public Object check(InvocationContext call) throws Exception {
        Object result = call.proceed();
        if (transactions != null && transactions.getTransactionStatus() == Status.STATUS_MARKED_ROLLBACK) {
            throw new EJBException(call.getMethod().getDeclaringClass().getSimpleName() + "."
                    + call.getMethod().getName() + ": the transaction was rolled back (the database failed"
                    + " during it); nothing was written");
        }
        return result;
    }
}
