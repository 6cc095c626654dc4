using ModelOps.Engine.Models;
using ModelOps.Engine.Training;

namespace ModelOps.Portal.Runs;

/// <summary>
/// The params a run page lists. A launched run's options are logged by <see cref="TrainingOptions.ToParams"/>,
/// which writes only the options that apply to its template, task, optimizer and schedule; runs logged before
/// that (or by an older worker) may hold every option. The page shows what applies: a param that names a
/// training option this run's options do not use (conv blocks or vocabulary size on an mlp) is left out,
/// while params the run logged itself (frozen_layers, a client's own keys) stay.
/// </summary>
public static class RunParamsView
{
    /// <summary>Every key <see cref="TrainingOptions.ToParams"/> can write, whatever the options: the union over templates and the optional parts.</summary>
    public static IReadOnlySet<string> OptionKeys { get; } = AllOptionKeys();

    public static IReadOnlyList<KeyValuePair<string, string>> Applicable(IReadOnlyDictionary<string, string> logged, TrainingOptions? options)
    {
        if (options is null) return logged.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        var applies = options.ToParams();
        return logged.Where(p => !OptionKeys.Contains(p.Key) || applies.ContainsKey(p.Key))
            .OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
    }

    private static HashSet<string> AllOptionKeys()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var template in ModelTemplates.Names)
        {
            var o = new TrainingOptions
            {
                Template = template, Optimizer = Optimizers.Sgd, Schedule = Schedules.Step, EarlyStoppingPatience = 1,
                TrainableLayers = 1, CrossValidationFolds = 2, CategoricalEncoding = CategoricalEncodings.Embedding,
            };
            keys.UnionWith(o.ToParams().Keys);
            keys.UnionWith((o with { Schedule = Schedules.Cosine }).ToParams().Keys);
        }
        return keys;
    }
}
