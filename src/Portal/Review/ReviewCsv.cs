using System.Globalization;
using System.Text;
using ModelOps.Portal.Audit;

namespace ModelOps.Portal.Review;

/// <summary>
/// A review as RFC 4180 CSV, one row per version × metric (test metrics, then per-class precision and recall, then
/// compute), with the house rule for cells a spreadsheet would run (<see cref="AuditCsv.Cell"/>).
/// </summary>
public static class ReviewCsv
{
    public const string Header = "Model,Version,Stage,Metric,Value,DeltaToProduction,Dataset,TrainedBy";

    public static string Write(ReviewReport report)
    {
        var csv = new StringBuilder(Header + "\r\n");
        foreach (var v in report.Versions)
        {
            var dataset = v.Dataset is null ? null : $"{v.Dataset} v{v.DatasetVersion}";
            void Row(string metric, double? value, double? delta) => csv.Append(string.Join(',',
                AuditCsv.Cell(report.Model), v.Version.ToString(CultureInfo.InvariantCulture), AuditCsv.Cell(v.Stage), AuditCsv.Cell(metric),
                Number(value), Number(delta), AuditCsv.Cell(dataset), AuditCsv.Cell(v.TrainedBy))).Append("\r\n");
            foreach (var m in v.Metrics) Row(m.Key, m.Value, m.DeltaToProduction);
            foreach (var c in v.Classes)
            {
                Row($"precision[{c.ClassName}]", c.Precision, null);
                Row($"recall[{c.ClassName}]", c.Recall, null);
            }
            if (v.Compute is { } compute)
            {
                Row("gpu_hours", compute.GpuHours, null);
                Row("cpu_core_hours", compute.CpuCoreHours, null);
                if (compute.Cost is { } cost) Row($"cost_{compute.Currency}", cost, null);
            }
        }
        return csv.ToString();
    }

    private static string Number(double? value) => value is { } x && double.IsFinite(x) ? x.ToString("R", CultureInfo.InvariantCulture) : "";
}
