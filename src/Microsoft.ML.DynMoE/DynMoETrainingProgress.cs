namespace Microsoft.ML.DynMoE;

/// <summary>Reported once per epoch through <c>Options.Progress</c>.</summary>
public sealed class DynMoETrainingProgress
{
    /// <summary>1-based epoch that just finished.</summary>
    public int Epoch { get; init; }

    /// <summary>The epoch budget (training may stop earlier with early stopping).</summary>
    public int NumberOfEpochs { get; init; }

    /// <summary>Optimizer steps taken so far.</summary>
    public long Step { get; init; }

    /// <summary>Mean weighted task loss over the epoch's batches (auxiliary losses excluded).</summary>
    public double TrainingLoss { get; init; }

    /// <summary>Task loss on the validation set, when one was given.</summary>
    public double? ValidationLoss { get; init; }

    /// <summary>Validation accuracy for classification or RMSE (label units) for regression, when a validation set was given.</summary>
    public double? ValidationMetric { get; init; }

    /// <summary>Active experts in each MoE layer after the epoch.</summary>
    public IReadOnlyList<int> ActiveExperts { get; init; } = Array.Empty<int>();

    /// <summary>Mean experts activated per token during the epoch's training forwards, averaged over layers.</summary>
    public double ActivatedExpertsPerToken { get; init; }

    /// <summary>Wall time since training started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <inheritdoc />
    public override string ToString()
        => $"epoch {Epoch}/{NumberOfEpochs}: loss {TrainingLoss:F4}"
           + (ValidationLoss is double v ? $", validation loss {v:F4}" : "")
           + (ValidationMetric is double m ? $", validation metric {m:F4}" : "")
           + $", active experts [{string.Join(",", ActiveExperts)}], activated/token {ActivatedExpertsPerToken:F2}, {Elapsed.TotalSeconds:F1}s";
}
