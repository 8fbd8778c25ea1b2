package org.postern.web;

import jakarta.ejb.EJB;
import jakarta.enterprise.context.RequestScoped;
import jakarta.inject.Named;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postern.admin.DeliveryStatisticsMXBean;
import org.postern.admin.ServerControl;
import org.postern.service.Activity;

/**
 * ActivityView - the console's live figures: messages accepted and recipients sent,
 * deferred and bounced per minute over the last hour (a chart drawn on the server as
 * SVG, so that it needs no script), the totals of that hour, and the dead destinations.
 * The first page refreshes them every 10 seconds.
 */
@Named
@RequestScoped
public class ActivityView {
    static final int WIDTH = 600;
    static final int HEIGHT = 160;
    private static final DateTimeFormatter HHMM = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT);

    @EJB
    private ServerControl control;

    private List<Activity.Minute> hour;

    /** Series - one line of the chart: its kind, colour, points, the hour's total and the last full minute. */
    public record Series(String name, String colour, String points, long hourTotal, long lastMinute) {
    }

    private List<Activity.Minute> hour() {
        if (hour == null) {
            hour = control.lastHour();
        }
        return hour;
    }

    /** max - the largest count of a minute in the hour, at least 1 (the chart's top). */
    public long getMax() {
        long max = 1;
        for (Activity.Minute m : hour()) {
            for (long c : m.counts()) {
                max = Math.max(max, c);
            }
        }
        return max;
    }

    /** series - accepted, sent, deferred, bounced. */
    public List<Series> getSeries() {
        String[] colours = {"#1f77b4", "#2ca02c", "#ff7f0e", "#d62728"};
        List<Series> out = new ArrayList<>();
        List<Activity.Minute> h = hour();
        long max = getMax();
        for (Activity.Kind k : Activity.Kind.values()) {
            StringBuilder points = new StringBuilder();
            long total = 0;
            for (int i = 0; i < h.size(); i++) {
                long c = h.get(i).count(k);
                total += c;
                double x = i * (WIDTH - 1.0) / (h.size() - 1);
                double y = HEIGHT - 1 - c * (HEIGHT - 10.0) / max;
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
            }
            long last = h.size() > 1 ? h.get(h.size() - 2).count(k) : 0;
            out.add(new Series(k.name().toLowerCase(Locale.ROOT), colours[k.ordinal()], points.toString().strip(),
                    total, last));
        }
        return out;
    }

    /** from, to - the times at the chart's ends, in the server's time zone. */
    public String getFrom() {
        return HHMM.format(hour().get(0).start().atZone(ZoneId.systemDefault()));
    }

    public String getTo() {
        return HHMM.format(hour().get(hour().size() - 1).start().atZone(ZoneId.systemDefault()));
    }

    public int getWidth() {
        return WIDTH;
    }

    public int getHeight() {
        return HEIGHT;
    }

    /** dead - the destinations held for dead now. */
    public List<DeliveryStatisticsMXBean.Dead> getDead() {
        return control.getDeadDestinations();
    }
}
