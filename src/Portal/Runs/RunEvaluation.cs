using System.Text.Json;

namespace ModelOps.Portal.Runs;

/// <summary>
/// The test-split evaluation a worker reports when a run finishes (stored as JSON on the run). A figure
/// that does not apply to the run's task is null; regression runs have MSE, MAE and R2 and no matrix.
/// </summary>
public sealed record RunEvaluation(
    double? Accuracy, double? PrecisionMacro, double? RecallMacro, double? F1Macro,
    int[][] ConfusionMatrix, string[] ClassNames, int Samples,
    string Task = "classification",
    double? PrecisionWeighted = null, double? RecallWeighted = null, double? F1Weighted = null,
    double? RocAuc = null, double? Mse = null, double? Mae = null, double? R2 = null)
{
    public bool IsRegression => Task == ModelOps.Engine.Training.TrainingTasks.Regression;

    public static RunEvaluation? From(Run run) =>
        run.EvaluationJson is null ? null : JsonSerializer.Deserialize<RunEvaluation>(run.EvaluationJson, JsonSerializerOptions.Web);
}
