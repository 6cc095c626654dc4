using ModelOps.Engine.Models;
using ModelOps.Engine.Training;
using ModelOps.Portal.Datasets;
using ModelOps.Portal.Infrastructure;

namespace ModelOps.Portal.Runs;

/// <summary>A registered model version, by name and version number: <c>{"name": "churn", "version": 3}</c>.</summary>
public sealed record ModelVersionRef(string Name, int Version);

/// <summary>
/// Starting a run from a registered version's weights: which options the parent decides, the learning
/// rate a fine-tune starts with, and whether the parent's inputs fit the new dataset. The engine checks
/// the same at training time; checking here turns a failed run into a 400 that names the problem.
/// </summary>
public static class FineTuning
{
    /// <summary>The rate a fine-tune gets when the request names none: a tenth of the usual default.</summary>
    public static double DefaultLearningRate => new TrainingOptions().LearningRate / 10;


    /// <summary>Every reason the parent cannot be fine-tuned on this dataset version with these options; empty when it can.</summary>
    public static IReadOnlyList<ErrorMessage> Problems(ModelSchema parent, ModelVersionRef name, TrainingOptions options, DatasetVersion version, DatasetProfile profile)
    {
        var problems = new List<ErrorMessage>();
        var expected = version.Kind switch
        {
            DatasetKinds.Idx => ModelSchema.Image,
            DatasetKinds.Text => ModelSchema.Text,
            _ => ModelSchema.Tabular,
        };
        if (parent.InputKind != expected)
        {
            problems.Add(ErrorMessage.Of($"Model '{name.Name}' v{name.Version} reads {parent.InputKind} input, but this dataset is {version.Kind} ({expected} input)."));
            return problems;
        }
        if (parent.Task != options.Task)
            problems.Add(ErrorMessage.Of($"Model '{name.Name}' v{name.Version} does {parent.Task}, but this run asks for {options.Task}."));
        switch (parent.InputKind)
        {
            case ModelSchema.Tabular:
                var columns = profile.Columns.Where(c => c.Name != profile.LabelColumn).ToDictionary(c => c.Name, StringComparer.Ordinal);
                foreach (var feature in parent.Features)
                {
                    var kind = feature.Kind == FeatureKind.Numeric ? "numeric" : "categorical";
                    if (!columns.TryGetValue(feature.Name, out var column))
                        problems.Add(ErrorMessage.Of($"Model '{name.Name}' v{name.Version} reads the {kind} column '{feature.Name}', which this dataset does not have (or uses as its label)."));
                    else if (column.Type != kind)
                        problems.Add(ErrorMessage.Of($"Column '{feature.Name}' is {kind} for Model '{name.Name}' v{name.Version} but {column.Type} in this dataset."));
                }
                break;
            case ModelSchema.Image:
                if (parent.ImageShape is { } shape && profile.ImageShape is { } here && !shape.SequenceEqual(here))
                    problems.Add(ErrorMessage.Of($"Model '{name.Name}' v{name.Version} reads {string.Join("x", shape)} images, but this dataset's are {string.Join("x", here)}."));
                break;
        }
        return problems;
    }
}
