package org.postern.ra;

import jakarta.resource.spi.work.HintsContext;
import jakarta.resource.spi.work.Work;
import jakarta.resource.spi.work.WorkContext;
import jakarta.resource.spi.work.WorkContextProvider;
import jakarta.resource.spi.work.WorkException;
import jakarta.resource.spi.work.WorkManager;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * WorkManagerExecutor - an Executor whose threads come from the JCA WorkManager of the
 * bootstrap context (Postern's own work manager, see configure-jca.cli).
 *
 * <p>Long-running work (Netty event loops, which keep their thread for the adapter's
 * lifetime) carries the LongRunning hint so that IronJacamar runs it on the work
 * manager's long-running pool; short work (endpoint calls) runs on the short-running pool.
 */
final class WorkManagerExecutor implements Executor {
    private final WorkManager workManager;
    private final boolean longRunning;

    WorkManagerExecutor(WorkManager workManager, boolean longRunning) {
        this.workManager = workManager;
        this.longRunning = longRunning;
    }

    @Override
    public void execute(Runnable command) {
        try {
            workManager.scheduleWork(new RunnableWork(command, longRunning));
        } catch (WorkException e) {
            throw new RejectedExecutionException("PSTN2001: work manager rejected work: " + e.getMessage(), e);
        }
    }

    /** RunnableWork - a Runnable as JCA Work, with the long-running hint where it applies. */
    private record RunnableWork(Runnable command, boolean longRunning) implements Work, WorkContextProvider {
        @Override
        public void run() {
            command.run();
        }

        @Override
        public void release() {
            // nothing to interrupt: Netty event loops stop when the group shuts down
        }

        @Override
        public List<WorkContext> getWorkContexts() {
            if (!longRunning) {
                return List.of();
            }
            HintsContext hints = new HintsContext();
            hints.setHint(HintsContext.LONGRUNNING_HINT, Boolean.TRUE);
            hints.setName("postern-netty");
            return List.of(hints);
        }
    }
}
