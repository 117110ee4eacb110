using Microsoft.ML.DynMoE.Layers;
using TorchSharp;

namespace Microsoft.ML.DynMoE.Training;

/// <summary>
/// The one Fit path of every DynMoE trainer, tabular or encoder: option checks that need the data, the device (before
/// the first pass over the data, so a missing GPU fails at once), oneMKL's reproducible mode, the seed, cancellation,
/// then the training loop with its logging and progress. A trainer adds only how its rows become batches and which
/// network and scorer it builds.
/// </summary>
internal sealed class FitSession : IDisposable
{
    private readonly IHost _host;
    private readonly DynMoETrainerOptionsBase _options;

    public FitSession(IHost host, DynMoETrainerOptionsBase options, bool hasValidationData)
    {
        _host = host;
        _options = options;
        // The device first: a missing GPU throws before the channel exists, so nothing is left undisposed.
        Device = DeviceSelection.Resolve(options.Device, host);
        Channel = host.Start("Training");
        if (NativeReproducibility.EnsureFor(Device) is string reproducibility)
            Channel.Warning(MessageSensitivity.None, "DynMoE: " + reproducibility);
        Seed = options.Seed ?? ((IHostEnvironmentInternal)host).Seed ?? host.Rand.Next();
        // Patience is on by default, so turning the hold-out off is not an error: training runs every epoch.
        if (options.EarlyStoppingPatience > 0 && !hasValidationData && options.ValidationFraction == 0)
            Channel.Info(MessageSensitivity.None, $"DynMoE: no validation data (none given, ValidationFraction 0): EarlyStoppingPatience {options.EarlyStoppingPatience} has nothing to stop on; every epoch runs.");
    }

    public IChannel Channel { get; }

    public torch.Device Device { get; }

    public int Seed { get; }

    /// <summary>Throws when the caller's token or the <see cref="MLContext"/> cancelled the work.</summary>
    public void CheckAlive()
    {
        _options.CancellationToken.ThrowIfCancellationRequested();
        _host.CheckAlive();
    }

    /// <summary>
    /// The rows to hold out for validation: none when validation data was given, <c>ValidationFraction</c> is 0, or
    /// <paramref name="rows"/> is below <see cref="DynMoETrainerOptionsBase.MinimumRowsForValidation"/> (logged).
    /// </summary>
    public ValidationSplit? PlanHoldOut(bool validationGiven, long rows, bool stratify)
    {
        if (validationGiven || _options.ValidationFraction == 0)
            return null;
        if (rows < DynMoETrainerOptionsBase.MinimumRowsForValidation)
        {
            Channel.Info(MessageSensitivity.None, $"DynMoE: {rows} training rows, fewer than {DynMoETrainerOptionsBase.MinimumRowsForValidation}: nothing held out for validation"
                + (_options.EarlyStoppingPatience > 0 ? ", so no early stopping; every epoch runs." : "."));
            return null;
        }

        Channel.Info(MessageSensitivity.None, FormattableString.Invariant($"DynMoE: holding out {_options.ValidationFraction:P0} of the training rows for validation ({(stratify ? "stratified by label, " : "")}seed {Seed})."));
        return new ValidationSplit(_options.ValidationFraction, Seed, stratify);
    }

    /// <summary>Logs the rows a reader left out, with the reason (the same words for every trainer).</summary>
    public void LogSkippedRows(string dataName, long missingLabel, long nonFinite, long invalidWeight)
    {
        if (missingLabel > 0)
            Channel.Info(MessageSensitivity.None, $"DynMoE skipped {missingLabel} {dataName} rows with a missing or infinite label.");
        if (nonFinite > 0)
            Channel.Info(MessageSensitivity.None, $"DynMoE skipped {nonFinite} {dataName} rows with NaN or infinite inputs (SkipRowsWithNonFiniteFeatures).");
        if (invalidWeight > 0)
            Channel.Info(MessageSensitivity.None, $"DynMoE skipped {invalidWeight} {dataName} rows with a missing, negative or infinite weight.");
    }

    /// <summary>Trains <paramref name="createNetwork"/>'s network on <paramref name="source"/> and compiles it for managed scoring; <paramref name="describeEpoch"/> adds to each epoch's log line (e.g. the padding fraction).</summary>
    public TrainedNetwork<TCompiled> Train<TCompiled>(TrainingObjective objective, ITrainingBatchSource source, ITrainingBatchSource? validation,
        Func<torch.Generator, MoENetwork> createNetwork, Func<MoENetwork, TCompiled> compile, double regressionLabelScale = 1, Func<string>? describeEpoch = null,
        double pretrainedLearningRateMultiplier = 1)
        where TCompiled : class
    {
        var options = _options;
        var settings = new NetworkTrainingSettings
        {
            Objective = objective,
            Epochs = options.NumberOfEpochs,
            BatchSize = options.BatchSize,
            LearningRate = options.LearningRate,
            WarmupFraction = options.WarmupFraction,
            GradientClipNorm = options.GradientClipNorm,
            WeightDecay = options.WeightDecay,
            Adaptation = options.Gating == GatingKind.TopAny ? options.Adaptation : AdaptationSchedule.Off,
            Device = Device,
            Seed = Seed,
            Threads = options.NumberOfThreads,
            GateLearningRateMultiplier = options.GateLearningRateMultiplier,
            PretrainedLearningRateMultiplier = pretrainedLearningRateMultiplier,
            ResetNewExpertOptimizerState = options.ResetNewExpertOptimizerState,
            NewExpertWarmupSteps = options.NewExpertWarmupSteps,
            EarlyStoppingPatience = options.EarlyStoppingPatience,
            RegressionLabelScale = regressionLabelScale,
            CancellationToken = options.CancellationToken,
            CheckAlive = CheckAlive,
            OnEpoch = progress =>
            {
                Channel.Info(MessageSensitivity.None, "DynMoE " + progress + (describeEpoch is null ? "" : ", " + describeEpoch()));
                if (progress.ValidationLoss is double loss && !double.IsFinite(loss))
                    Channel.Warning(MessageSensitivity.None, FormattableString.Invariant($"DynMoE: the validation loss of epoch {progress.Epoch} is {loss}; training diverged: lower LearningRate.")
                        + (options.EarlyStoppingPatience > 0 ? " Early stopping counts the epoch as one without improvement and keeps the best finite epoch." : ""));
                options.Progress?.Report(progress);
            },
        };
        var trained = MoENetworkTrainer.Train(settings, createNetwork, compile, source, validation);
        Channel.Info(MessageSensitivity.None, $"DynMoE routing after training: {string.Join("; ", trained.Routing.Select(r => r.ToString()))}");
        return trained;
    }

    public void Dispose() => Channel.Dispose();
}
