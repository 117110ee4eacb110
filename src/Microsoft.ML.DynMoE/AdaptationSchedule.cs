using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// When top-any layers record routing and run <see cref="MoELayer.AdaptExperts"/>. Training loops call
/// <see cref="BeforeStep"/> and <see cref="AfterStep"/> around every training step (forward, backward, optimizer step).
/// </summary>
public abstract class AdaptationSchedule
{
    /// <summary>Never records, never adapts.</summary>
    public static AdaptationSchedule Off { get; } = new OffSchedule();

    /// <summary>
    /// TU-GLUE style (default): in every epoch of N steps, record steps <c>[⌊start·N⌋, ⌊end·N⌋)</c> (TU's integer steps N/2 and 3N/4)
    /// and adapt after the last of them. The window always holds at least one step, so even 1-4 steps per epoch record and adapt once per epoch.
    /// </summary>
    /// <param name="start">Window start as a fraction of the epoch, in [0, 1). Default 0.5.</param>
    /// <param name="end">Window end as a fraction of the epoch, in (start, 1]. Default 0.75.</param>
    public static AdaptationSchedule PerEpochWindow(double start = 0.5, double end = 0.75)
    {
        if (!(start >= 0 && start < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, "start must be in [0, 1).");
        }

        if (!(end > start && end <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(end), end, "end must be in (start, 1].");
        }

        return new EpochWindowSchedule(start, end);
    }

    /// <summary>
    /// DeepSpeed style, on the global step count: recording windows of <paramref name="recordSteps"/> steps start at
    /// global steps <c>recordSteps + j·periodSteps</c> and adapt after their last step (DS uses 300/900 forwards).
    /// <c>recordSteps = periodSteps = 1</c> adapts after every step from a one-batch window (TU DomainBed style).
    /// </summary>
    /// <param name="recordSteps">Steps per recording window, at least 1.</param>
    /// <param name="periodSteps">Steps between window starts, at least <paramref name="recordSteps"/>.</param>
    public static AdaptationSchedule EveryNSteps(int recordSteps, int periodSteps)
    {
        if (recordSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(recordSteps), recordSteps, "recordSteps must be at least 1.");
        }

        if (periodSteps < recordSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(periodSteps), periodSteps, $"periodSteps must be at least recordSteps ({recordSteps}).");
        }

        return new StepWindowSchedule(recordSteps, periodSteps);
    }

    /// <summary>Called before a training step.</summary>
    /// <param name="layers">The MoE layers of the model.</param>
    /// <param name="stepInEpoch">0-based index of the step within its epoch.</param>
    /// <param name="stepsPerEpoch">Steps (batches) per epoch, at least 1.</param>
    /// <param name="globalStep">0-based index of the step since training began.</param>
    internal abstract void BeforeStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep);

    /// <summary>Called after a training step; returns one report per adapted layer (empty when nothing ran).</summary>
    /// <param name="layers">The MoE layers of the model.</param>
    /// <param name="stepInEpoch">0-based index of the step within its epoch.</param>
    /// <param name="stepsPerEpoch">Steps (batches) per epoch, at least 1.</param>
    /// <param name="globalStep">0-based index of the step since training began.</param>
    internal abstract IReadOnlyList<ExpertAdaptation> AfterStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep);

    /// <summary>Starts a recording window on every top-any layer.</summary>
    private protected static void BeginAll(IReadOnlyList<MoELayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers)
        {
            if (layer.Options.Gating == GatingKind.TopAny) layer.BeginRecording();
        }
    }

    /// <summary>Adapts and stops recording on every top-any layer.</summary>
    private protected static IReadOnlyList<ExpertAdaptation> AdaptAll(IReadOnlyList<MoELayer> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var reports = new List<ExpertAdaptation>();
        foreach (var layer in layers)
        {
            if (layer.Options.Gating != GatingKind.TopAny) continue;
            reports.Add(layer.AdaptExperts());
            layer.EndRecording();
        }

        return reports;
    }

    private sealed class OffSchedule : AdaptationSchedule
    {
        internal override void BeforeStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep)
        {
        }

        internal override IReadOnlyList<ExpertAdaptation> AfterStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep)
            => Array.Empty<ExpertAdaptation>();
    }

    private sealed class EpochWindowSchedule(double start, double end) : AdaptationSchedule
    {
        internal override void BeforeStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep)
        {
            if (stepInEpoch == FirstRecordedStep(stepsPerEpoch)) BeginAll(layers);
        }

        internal override IReadOnlyList<ExpertAdaptation> AfterStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep)
            => stepInEpoch == LastRecordedStep(stepsPerEpoch) ? AdaptAll(layers) : Array.Empty<ExpertAdaptation>();

        private int FirstRecordedStep(int stepsPerEpoch)
            => Math.Min((int)Math.Floor(start * stepsPerEpoch), Math.Max(stepsPerEpoch, 1) - 1);

        private int LastRecordedStep(int stepsPerEpoch)
            => Math.Min(Math.Max(FirstRecordedStep(stepsPerEpoch), (int)Math.Floor(end * stepsPerEpoch) - 1), Math.Max(stepsPerEpoch, 1) - 1);
    }

    private sealed class StepWindowSchedule(int record, int period) : AdaptationSchedule
    {
        internal override void BeforeStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep)
        {
            if (globalStep >= record && (globalStep - record) % period == 0) BeginAll(layers);
        }

        internal override IReadOnlyList<ExpertAdaptation> AfterStep(IReadOnlyList<MoELayer> layers, int stepInEpoch, int stepsPerEpoch, long globalStep)
        {
            long last = 2L * record - 1;
            return globalStep >= last && (globalStep - last) % period == 0 ? AdaptAll(layers) : Array.Empty<ExpertAdaptation>();
        }
    }
}
