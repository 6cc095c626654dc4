using System.Text.Json;
using ModelOps.Engine.Training;

namespace ModelOps.Portal.Runs;

/// <summary>Reads and writes a training run's <see cref="TrainingOptions"/>, keeping the typed columns in step.</summary>
public static class RunOptions
{
    /// <summary>camelCase, as the worker protocol and the API carry options.</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The run's options: its stored JSON, or for a run made before M0003 the options its columns describe.</summary>
    public static TrainingOptions Read(Run run)
    {
        if (!string.IsNullOrEmpty(run.OptionsJson) && JsonSerializer.Deserialize<TrainingOptions>(run.OptionsJson, Json) is { } stored)
            return stored;
        return FromColumns(run);
    }

    /// <summary>What an old run's columns say; everything they do not record keeps the engine's defaults, which is what such runs trained with.</summary>
    public static TrainingOptions FromColumns(Run run) => new()
    {
        Template = run.Template,
        Epochs = run.Epochs,
        BatchSize = run.BatchSize,
        LearningRate = run.LearningRate,
        Optimizer = run.Optimizer,
        Seed = run.Seed,
        ValidationFraction = run.ValidationFraction,
        TestFraction = run.TestFraction,
        MaxTrainSamples = run.MaxTrainSamples,
    };

    /// <summary>Stores the options as JSON and copies the fields the pages and queries read into their columns.</summary>
    public static void Write(Run run, TrainingOptions options)
    {
        run.OptionsJson = JsonSerializer.Serialize(options, Json);
        run.Template = options.Template;
        run.Epochs = options.Epochs;
        run.BatchSize = options.BatchSize;
        run.LearningRate = options.LearningRate;
        run.Optimizer = options.Optimizer;
        run.Seed = options.Seed;
        run.ValidationFraction = options.ValidationFraction;
        run.TestFraction = options.TestFraction;
        run.MaxTrainSamples = options.MaxTrainSamples;
    }
}
