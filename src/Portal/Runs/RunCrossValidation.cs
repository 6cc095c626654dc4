using System.Text.Json;
using ModelOps.Jobs.Protocol;

namespace ModelOps.Portal.Runs;

/// <summary>A run's k-fold cross-validation report, stored as JSON when the worker finishes the run.</summary>
public static class RunCrossValidation
{
    public static CrossValidationDto? From(Run run) =>
        run.CrossValidationJson is null ? null : JsonSerializer.Deserialize<CrossValidationDto>(run.CrossValidationJson, JsonSerializerOptions.Web);

    public static string ToJson(CrossValidationDto report) => JsonSerializer.Serialize(report, JsonSerializerOptions.Web);

    /// <summary>The metric keys the folds' mean and deviation are recorded under (accuracy -> cv_accuracy_mean, cv_accuracy_std).</summary>
    public static IEnumerable<(string Key, double Value)> SummaryMetrics(CrossValidationDto report) =>
        report.Mean.Select(m => ($"cv_{m.Key}_mean", m.Value))
            .Concat(report.Std.Select(s => ($"cv_{s.Key}_std", s.Value)))
            .Where(m => double.IsFinite(m.Item2));
}
