using System.Text.Json;

namespace ModelOps.Portal.Runs;

/// <summary>The test-split evaluation a worker reports when a run finishes (stored as JSON on the run).</summary>
public sealed record RunEvaluation(
    double Accuracy, double PrecisionMacro, double RecallMacro, double F1Macro,
    int[][] ConfusionMatrix, string[] ClassNames, int Samples)
{
    public static RunEvaluation? From(Run run) =>
        run.EvaluationJson is null ? null : JsonSerializer.Deserialize<RunEvaluation>(run.EvaluationJson, JsonSerializerOptions.Web);
}
