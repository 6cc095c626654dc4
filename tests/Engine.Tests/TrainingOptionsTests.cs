using ModelOps.Engine.Training;

namespace ModelOps.Engine.Tests;

/// <summary>What the options allow, and the run params they log: only those that apply to the run.</summary>
public class TrainingOptionsTests
{
    private static readonly string[] Common =
    [
        "template", "task", "dropout", "epochs", "batch_size", "learning_rate", "optimizer", "weight_decay", "schedule",
        "grad_clip_norm", "early_stopping_patience", "seed", "validation_fraction", "test_fraction",
    ];

    [Fact]
    public void ToParams_ForADefaultMlpRun_HoldsItsShapeAndDataPoliciesButNoOtherTemplatesOrOptimizers()
    {
        var p = new TrainingOptions().ToParams();

        Assert.Equal([.. Common, "hidden_layers", "batch_norm", "missing_values", "categorical_encoding", "label_smoothing", "class_weights"],
            p.Keys);
        Assert.Equal("128-64", p["hidden_layers"]);
        Assert.Equal("0.001", p["learning_rate"]);
        Assert.Equal("true", p["batch_norm"]);
        Assert.Equal("42", p["seed"]);
    }

    [Fact]
    public void ToParams_ForACnnWithSgdAndAStepSchedule_HoldsConvMomentumAndStepParams()
    {
        var p = new TrainingOptions { Template = "cnn", Optimizer = "sgd", Nesterov = true, Schedule = "step", StepSize = 3, Gamma = 0.5 }.ToParams();

        Assert.Equal([.. Common, "conv_blocks", "conv_width", "batch_norm", "label_smoothing", "class_weights", "momentum", "nesterov", "step_size", "gamma"],
            p.Keys);
        Assert.Equal("0.9", p["momentum"]);
        Assert.Equal("true", p["nesterov"]);
        Assert.Equal("0.5", p["gamma"]);
    }

    [Fact]
    public void ToParams_ForATransformerWithWarmupFineTunedAndCrossValidated_HoldsThoseParams()
    {
        var p = new TrainingOptions
        {
            Template = "text-transformer", TransformerLayers = 3, AttentionHeads = 8, Schedule = "cosine", WarmupEpochs = 0.5,
            EarlyStoppingPatience = 2, EarlyStoppingMetric = "val_accuracy", TrainableLayers = 2, CrossValidationFolds = 5,
        }.ToParams();

        Assert.Equal([.. Common, "transformer_layers", "attention_heads", "embedding_dim", "hidden_size", "max_tokens", "vocabulary_size",
            "label_smoothing", "class_weights", "warmup_epochs", "early_stopping_metric", "trainable_layers", "cross_validation_folds"], p.Keys);
        Assert.Equal("3", p["transformer_layers"]);
        Assert.Equal("0.5", p["warmup_epochs"]);
        Assert.Equal("5", p["cross_validation_folds"]);
    }

    [Fact]
    public void ToParams_ForRegressionWithEmbeddings_HasNoClassificationParams()
    {
        var p = new TrainingOptions { Task = "regression", CategoricalEncoding = "embedding", EmbeddingDim = 8 }.ToParams();

        Assert.DoesNotContain("label_smoothing", p.Keys);
        Assert.DoesNotContain("class_weights", p.Keys);
        Assert.Equal("8", p["embedding_dim"]);
        Assert.DoesNotContain("hidden_size", p.Keys);
    }

    [Fact]
    public void Validate_TheTransformerOptions_NameWhatIsWrong()
    {
        Assert.Contains("TransformerLayers must be from 1 to 12", new TrainingOptions { TransformerLayers = 0 }.Validate());
        Assert.Contains("TransformerLayers must be from 1 to 12", new TrainingOptions { TransformerLayers = 13 }.Validate());
        Assert.Contains("AttentionHeads must be from 1 to 16", new TrainingOptions { AttentionHeads = 17 }.Validate());
        const string multiple = "EmbeddingDim must be a multiple of AttentionHeads for the text-transformer template";
        Assert.Contains(multiple, new TrainingOptions { Template = "text-transformer", EmbeddingDim = 30, AttentionHeads = 4 }.Validate());
        // The other templates have no attention heads, so the multiple does not matter to them.
        Assert.Empty(new TrainingOptions { Template = "text-lstm", EmbeddingDim = 30, AttentionHeads = 4 }.Validate());
        Assert.Empty(new TrainingOptions { Template = "text-transformer", EmbeddingDim = 32, AttentionHeads = 8 }.Validate());
    }

    [Fact]
    public void Options_OfTheEngineBeforeTorchSharp_ReadWithTheNewOptionsAtTheirDefaults()
    {
        var options = LegacyFixtures.Options(LegacyFixtures.Json("text-lstm.epoch2.run.json"));

        Assert.Equal("text-lstm", options.Template);
        Assert.Equal(16, options.EmbeddingDim);
        Assert.Equal(new TrainingOptions().TransformerLayers, options.TransformerLayers);
        Assert.Equal(new TrainingOptions().AttentionHeads, options.AttentionHeads);
        Assert.Equal(0, options.TrainableLayers);
        Assert.Equal(0, options.CrossValidationFolds);
        Assert.Empty(options.Validate());
    }
}
