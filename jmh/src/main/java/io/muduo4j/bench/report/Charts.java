package io.muduo4j.bench.report;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Bar charts (JFreeChart, headless), one panel per figure, bars per implementation: the JMH report's
 * and the cross-process report's ({@code io.muduo4j.bench.cross.CrossReport}).
 */
public final class Charts {
    private static final int WIDTH = 1400;
    private static final int PANEL_HEIGHT = 460;
    /** One colour per position in the implementation order ({@link Report#IMPLS} for the JMH report). */
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xaec7e8), new Color(0xff7f0e), new Color(0xd62728), new Color(0x8c564b),
        new Color(0xff9896), new Color(0x7f7f7f), new Color(0xc7c7c7), new Color(0x2ca02c), new Color(0x9467bd)
    };

    private Charts() {
    }

    /** One panel: title, value axis label, and value[case][impl] in display order. */
    public static final class Panel {
        final String title;
        final String valueLabel;
        final Map<String, Map<String, Double>> values;

        /**
         * @param title the panel's title
         * @param valueLabel the value axis label
         * @param values value[case][impl], cases in display order
         */
        public Panel(String title, String valueLabel, Map<String, Map<String, Double>> values) {
            this.title = title;
            this.valueLabel = valueLabel;
            this.values = values;
        }
    }

    /**
     * Writes the panels one under the other as a PNG.
     *
     * @param panels the panels, top to bottom
     * @param implOrder the implementations in bar order (which also picks their colours)
     * @param file the PNG to write
     * @throws IOException when the file cannot be written
     */
    public static void write(List<Panel> panels, List<String> implOrder, Path file) throws IOException {
        if (panels.isEmpty()) {
            return;
        }
        BufferedImage img = new BufferedImage(WIDTH, PANEL_HEIGHT * panels.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, img.getWidth(), img.getHeight());
            for (int i = 0; i < panels.size(); i++) {
                chart(panels.get(i), implOrder).draw(g, new Rectangle2D.Double(0, i * PANEL_HEIGHT, WIDTH, PANEL_HEIGHT));
            }
        } finally {
            g.dispose();
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static JFreeChart chart(Panel p, List<String> implOrder) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        int bars = 0;
        for (Map.Entry<String, Map<String, Double>> c : p.values.entrySet()) {
            for (String impl : implOrder) {
                Double v = c.getValue().get(impl);
                if (v != null && !v.isNaN()) {
                    ds.addValue(v, impl, c.getKey());
                    bars++;
                }
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(p.title, null, p.valueLabel, ds);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setItemMargin(0.02);
        r.setMaximumBarWidth(0.08);
        for (int i = 0; i < ds.getRowCount(); i++) {
            int idx = implOrder.indexOf(String.valueOf(ds.getRowKey(i)));
            r.setSeriesPaint(i, COLORS[Math.floorMod(idx < 0 ? i : idx, COLORS.length)]);
        }
        if (bars <= 30) {
            r.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}", new DecimalFormat("#,##0.#")));
            r.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
            r.setDefaultItemLabelsVisible(true);
        }
        CategoryAxis axis = plot.getDomainAxis();
        if (ds.getColumnCount() > 6) {
            axis.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        axis.setCategoryMargin(0.15);
        return chart;
    }
}
