using System.Globalization;
using ModelOps.Portal.Datasets;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace ModelOps.Portal.Review;

/// <summary>
/// A review as a PDF (PDFsharp): title, model, date and exporter; the metrics table with differences to Production;
/// per-class precision and recall; each confusion matrix as a PNG heatmap; the training curves; live serving figures
/// when Serving supplies them; the latest decisions. Numbers are invariant-culture so the text reads the same everywhere.
/// </summary>
public static class ReviewPdf
{
    private const double Margin = 40;
    private static readonly XColor[] Palette = [XColors.Black, XColors.RoyalBlue, XColors.DarkOrange, XColors.SeaGreen, XColors.Crimson];

    public static byte[] Write(ReviewReport report, string exportedBy)
    {
        ReviewFonts.EnsureInstalled();
        using var document = new PdfDocument();
        document.Info.Title = $"Review of {report.Model}";
        var pen = new Pen(document);
        pen.Heading($"Review of model {report.Model}", 16);
        pen.Line($"Exported {report.At.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC by {exportedBy}");
        pen.Line(report.ProductionVersion is { } p ? $"Production: v{p}" : "No version is in Production.");
        pen.Gap();

        pen.Heading("Versions", 12);
        foreach (var v in report.Versions)
            pen.Line($"v{v.Version} ({v.Stage}) · run {v.RunId} · trained by {v.TrainedBy} · data {(v.Dataset is null ? "-" : $"{v.Dataset} v{v.DatasetVersion}")}" +
                     $" · registered {v.RegisteredAt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} · cost {Runs.RunCompute.CostText(v.Compute)}");
        pen.Gap();

        pen.Heading("Test metrics (difference to Production)", 12);
        var keys = report.Versions.SelectMany(v => v.Metrics).Select(m => m.Key).Distinct().ToList();
        pen.Row(["metric", .. report.Versions.Select(v => $"v{v.Version} {v.Stage}")]);
        foreach (var key in keys)
            pen.Row([key, .. report.Versions.Select(v => v.Metrics.FirstOrDefault(m => m.Key == key) is { } m ? MetricText(m) : "-")],
                report.Versions.Select(v => v.Metrics.FirstOrDefault(m => m.Key == key)?.Better).Prepend(null).ToArray());
        pen.Gap();

        var classes = report.Versions.SelectMany(v => v.Classes).Select(c => c.ClassName).Distinct().ToList();
        if (classes.Count > 0)
        {
            pen.Heading("Per-class precision / recall", 12);
            pen.Row(["class", .. report.Versions.Select(v => $"v{v.Version}")]);
            foreach (var c in classes)
                pen.Row([c, .. report.Versions.Select(v => v.Classes.FirstOrDefault(x => x.ClassName == c) is { } s ? $"{Num(s.Precision)} / {Num(s.Recall)}" : "-")]);
            pen.Gap();
        }

        if (report.Serving.Count > 0)
        {
            pen.Heading("Live serving figures", 12);
            foreach (var s in report.Serving)
                pen.Line($"v{s.Version}: {s.Requests} requests, {s.Errors} errors, p50 {Num(s.P50Ms)} ms, p95 {Num(s.P95Ms)} ms, p99 {Num(s.P99Ms)} ms");
            pen.Gap();
        }

        var matrices = report.Versions.Where(v => v.Evaluation?.ConfusionMatrix is { Length: > 0 }).ToList();
        if (matrices.Count > 0)
        {
            pen.Heading("Confusion matrices (rows true, columns predicted; darker is more)", 12);
            foreach (var v in matrices) pen.Image($"v{v.Version}", Heatmap(v.Evaluation!.ConfusionMatrix), 140);
        }

        var curveKeys = ReviewService.CurveKeys.Where(k => report.Versions.Any(v => v.Curves.ContainsKey(k))).ToList();
        foreach (var key in curveKeys)
        {
            pen.Heading($"Training curve: {key}", 12);
            pen.Chart(report.Versions.Where(v => v.Curves.ContainsKey(key)).Select((v, i) => ($"v{v.Version}", Palette[i % Palette.Length], v.Curves[key])).ToList());
        }

        pen.Heading("Latest decisions", 12);
        if (report.Decisions.Count == 0) pen.Line("No decision yet.");
        foreach (var d in report.Decisions)
            pen.Line($"{d.At.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} {d.Actor}: {d.Decision} on " +
                     string.Join(", ", d.Versions.Select(s => $"v{s.Version} ({s.Stage})")) + (d.Note.Length > 0 ? $" — {d.Note}" : ""));
        pen.Dispose();
        using var stream = new MemoryStream();
        document.Save(stream, false);
        return stream.ToArray();
    }

    public static string MetricText(ReviewMetric m) =>
        Num(m.Value) + (m.DeltaToProduction is { } d ? $" ({(d >= 0 ? "+" : "")}{d.ToString("0.0000", CultureInfo.InvariantCulture)})" : "");

    public static string Num(double? value) => value is { } x ? x.ToString("0.0000", CultureInfo.InvariantCulture) : "-";

    /// <summary>The matrix as a greyscale PNG, one block of pixels per cell, darker for more samples.</summary>
    public static byte[] Heatmap(int[][] matrix)
    {
        var n = matrix.Length;
        var cell = Math.Max(4, 160 / Math.Max(1, n));
        var size = n * cell;
        var pixels = new byte[size * size];
        var max = Math.Max(1, matrix.SelectMany(r => r).DefaultIfEmpty(0).Max());
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                int r = y / cell, c = x / cell;
                var value = c < matrix[r].Length ? matrix[r][c] : 0;
                pixels[y * size + x] = (byte)(255 - 230.0 * value / max);
            }
        return PngEncoder.Greyscale(pixels, size, size);
    }

    /// <summary>Lays out text, tables and images top to bottom, opening a new page when one is full.</summary>
    private sealed class Pen(PdfDocument document) : IDisposable
    {
        private PdfPage? _page;
        private XGraphics? _g;
        private double _y;

        private XGraphics G(double need)
        {
            if (_g is null || _y + need > _page!.Height.Point - Margin)
            {
                _g?.Dispose();
                _page = document.AddPage();
                _g = XGraphics.FromPdfPage(_page);
                _y = Margin;
            }
            return _g;
        }

        private double Width => _page?.Width.Point ?? 595;

        public void Heading(string text, double size) { var g = G(size + 10); g.DrawString(text, new XFont(ReviewFonts.Family, size, XFontStyleEx.Bold), XBrushes.Black, Margin, _y + size); _y += size + 8; }

        public void Line(string text)
        {
            var font = new XFont(ReviewFonts.Family, 9);
            var g = G(13);
            // Long lines wrap by words at the page width.
            var words = text.Split(' ');
            var line = "";
            foreach (var word in words)
            {
                var next = line.Length == 0 ? word : line + " " + word;
                if (g.MeasureString(next, font).Width > Width - 2 * Margin && line.Length > 0)
                {
                    g.DrawString(line, font, XBrushes.Black, Margin, _y + 9); _y += 12; g = G(13); line = word;
                }
                else line = next;
            }
            g.DrawString(line, font, XBrushes.Black, Margin, _y + 9); _y += 12;
        }

        public void Row(IReadOnlyList<string> cells, bool?[]? better = null)
        {
            var font = new XFont(ReviewFonts.Family, 8);
            var g = G(12);
            var width = (Width - 2 * Margin) / Math.Max(1, cells.Count);
            for (var i = 0; i < cells.Count; i++)
            {
                var brush = better?[i] switch { true => XBrushes.Green, false => XBrushes.Red, _ => XBrushes.Black };
                g.DrawString(cells[i], font, brush, Margin + i * width, _y + 8);
            }
            _y += 11;
        }

        public void Gap() => _y += 6;

        public void Image(string caption, byte[] png, double size)
        {
            var g = G(size + 16);
            using var image = XImage.FromStream(new MemoryStream(png));
            g.DrawString(caption, new XFont(ReviewFonts.Family, 9), XBrushes.Black, Margin, _y + 9);
            g.DrawImage(image, Margin, _y + 12, size, size);
            _y += size + 18;
        }

        public void Chart(IReadOnlyList<(string Name, XColor Color, IReadOnlyList<Tracking.SeriesPoint> Points)> series)
        {
            const double Height = 150;
            var g = G(Height + 20);
            var w = Width - 2 * Margin - 60;
            var all = series.SelectMany(s => s.Points).ToList();
            if (all.Count == 0) return;
            double minX = all.Min(p => p.Step), maxX = Math.Max(minX + 1, all.Max(p => p.Step));
            double minY = all.Min(p => p.Value), maxY = all.Max(p => p.Value);
            if (maxY - minY < 1e-12) maxY = minY + 1;
            g.DrawRectangle(XPens.Gray, Margin, _y, w, Height);
            var small = new XFont(ReviewFonts.Family, 7);
            g.DrawString(Num(maxY), small, XBrushes.Gray, Margin + w + 2, _y + 7);
            g.DrawString(Num(minY), small, XBrushes.Gray, Margin + w + 2, _y + Height);
            for (var i = 0; i < series.Count; i++)
            {
                var (name, color, points) = series[i];
                var line = new XPen(color, 1.2);
                var xy = points.Select(p => new XPoint(Margin + (p.Step - minX) / (maxX - minX) * w, _y + Height - (p.Value - minY) / (maxY - minY) * Height)).ToArray();
                if (xy.Length > 1) g.DrawLines(line, xy);
                g.DrawString(name, small, new XSolidBrush(color), Margin + w + 2, _y + 24 + i * 10);
            }
            _y += Height + 14;
        }

        public void Dispose() => _g?.Dispose();
    }
}
