namespace Microsoft.ML.DynMoE.Training;

/// <summary>Everything the TorchSharp training loop needs besides the data; free of ML.NET types.</summary>
internal sealed class NetworkTrainingSettings
{
    public required TrainingObjective Objective { get; init; }
    public required int Epochs { get; init; }
    public required int BatchSize { get; init; }
    public required double LearningRate { get; init; }
    public required double WeightDecay { get; init; }
    /// <summary>Fraction of all steps spent warming the learning rate up linearly from 0 (0 = none).</summary>
    public double WarmupFraction { get; init; }
    /// <summary>Largest global gradient norm before the step (0 = no clipping).</summary>
    public double GradientClipNorm { get; init; }
    public required AdaptationSchedule Adaptation { get; init; }
    public required TorchSharp.torch.Device Device { get; init; }
    public required int Seed { get; init; }
    public int Threads { get; init; } = 1;
    /// <summary>Learning-rate multiplier of the top-any gate embeddings and thresholds.</summary>
    public double GateLearningRateMultiplier { get; init; } = 1;
    /// <summary>Learning-rate multiplier of the network's pretrained parameters.</summary>
    public double PretrainedLearningRateMultiplier { get; init; } = 1;
    /// <summary>Zero an added expert's AdamW moments and restart its step count.</summary>
    public bool ResetNewExpertOptimizerState { get; init; }
    /// <summary>Steps over which an added expert's updates ramp up linearly (0 = off).</summary>
    public int NewExpertWarmupSteps { get; init; }
    public int EarlyStoppingPatience { get; init; }
    /// <summary>Regression only: the label standard deviation, to report validation RMSE in label units.</summary>
    public double RegressionLabelScale { get; init; } = 1;
    public CancellationToken CancellationToken { get; init; }
    public Action<DynMoETrainingProgress>? OnEpoch { get; init; }
    /// <summary>Called often during an epoch; throws to abort (e.g. MLContext cancellation).</summary>
    public Action? CheckAlive { get; init; }
}
