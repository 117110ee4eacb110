using System.CommandLine;
using System.Globalization;
using Microsoft.ML.DynMoE.Experiments;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>The DynMoE method flags (trainer options of the same names, kebab case) shared by train and benchmark.</summary>
    internal sealed class DynMoEMethodOptions
    {
        private readonly Option<string?> _auxiliaryLoss = new("--auxiliary-loss") { Description = "Top-any auxiliary loss: default (diversity + simplicity) | balance-efficiency (adds the DeepSpeed fork's load-balance and efficiency terms) | none.", DefaultValueFactory = _ => "default" };
        private readonly Option<float?> _threshold = new("--threshold-initialization") { Description = "Initial threshold θ of the top-any gate: an expert is activated when the token's cosine with it exceeds θ. Default: the trainer's." };
        private readonly Option<string?> _init = new("--new-expert-initialization") { Description = "Weights of an expert that adaptation adds: random | copy-most-loaded | mean-of-active. Default: the trainer's." };
        private readonly Option<bool> _reset = new("--reset-new-expert-optimizer-state") { Description = "Give an added expert fresh AdamW moments and step count." };
        private readonly Option<int?> _warmup = new("--new-expert-warmup-steps") { Description = "Ramp an added expert's updates up over this many steps (0 = off). Default: the trainer's." };
        private readonly Option<float?> _gateLr = new("--gate-learning-rate-multiplier") { Description = "Learning-rate multiplier of the gate embeddings and thresholds. Default: the trainer's." };
        private readonly Option<float?> _dropout = new("--dropout") { Description = "Dropout on every MoE layer's (and attention's) output before the residual sum, in [0, 1), seeded. Default: the trainer's." };
        private readonly Option<string?> _adaptation = new("--adaptation") { Description = "When experts are added/removed: epoch-window:START-END (fractions of each epoch; default epoch-window:0.5-0.75) | steps:RECORD/PERIOD | off." };

        public DynMoEMethodOptions()
        {
            _auxiliaryLoss.AcceptOnlyFromAmong("default", "balance-efficiency", "none");
            _init.AcceptOnlyFromAmong("random", "copy-most-loaded", "mean-of-active");
        }

        public void AddTo(System.CommandLine.Command command)
        {
            foreach (var option in new Option[] { _auxiliaryLoss, _threshold, _init, _reset, _warmup, _gateLr, _dropout, _adaptation })
                command.Add(option);
        }

        /// <summary>Copies the flags onto experiment settings (they reach the DynMoE candidate's trainer options).</summary>
        public void Apply(ParseResult pr, DynMoEExperimentSettings settings)
        {
            settings.AuxiliaryLoss = pr.GetValue(_auxiliaryLoss) switch
            {
                null => null,
                "balance-efficiency" => AuxiliaryLossKind.DiverseSimpleBalanceEfficiency,
                "none" => AuxiliaryLossKind.None,
                _ => AuxiliaryLossKind.Default,
            };
            settings.ThresholdInitialization = pr.GetValue(_threshold);
            if (settings.ThresholdInitialization is { } theta && !float.IsFinite(theta))
                throw new CliUsageException("--threshold-initialization must be a finite number.");
            settings.NewExpertInitialization = pr.GetValue(_init) switch
            {
                null => null,
                "copy-most-loaded" => NewExpertInitialization.CopyMostLoaded,
                "mean-of-active" => NewExpertInitialization.MeanOfActive,
                _ => NewExpertInitialization.Random,
            };
            settings.ResetNewExpertOptimizerState = pr.GetValue(_reset) ? true : null;
            int? warmup = pr.GetValue(_warmup);
            if (warmup < 0)
                throw new CliUsageException($"--new-expert-warmup-steps must be 0 or positive; got {warmup}.");
            settings.NewExpertWarmupSteps = warmup;
            float? gateLr = pr.GetValue(_gateLr);
            if (gateLr is { } g && (!(g > 0) || !float.IsFinite(g)))
                throw new CliUsageException($"--gate-learning-rate-multiplier must be a positive number; got {g.ToString(CultureInfo.InvariantCulture)}.");
            settings.GateLearningRateMultiplier = gateLr;
            float? dropout = pr.GetValue(_dropout);
            if (dropout is { } p && !(p >= 0 && p < 1))
                throw new CliUsageException($"--dropout must be in [0, 1); got {p.ToString(CultureInfo.InvariantCulture)}.");
            settings.Dropout = dropout;
            if (pr.GetValue(_adaptation) is string schedule)
                settings.Adaptation = ParseAdaptation(schedule);
        }

        internal static AdaptationSchedule ParseAdaptation(string text)
        {
            const string usage = "Use epoch-window:START-END (e.g. epoch-window:0.5-0.75), steps:RECORD/PERIOD (e.g. steps:300/900) or off.";
            try
            {
                if (text == "off")
                    return AdaptationSchedule.Off;
                if (text.StartsWith("epoch-window:", StringComparison.Ordinal))
                {
                    var parts = text["epoch-window:".Length..].Split('-');
                    return AdaptationSchedule.PerEpochWindow(double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
                }
                if (text.StartsWith("steps:", StringComparison.Ordinal))
                {
                    var parts = text["steps:".Length..].Split('/');
                    return AdaptationSchedule.EveryNSteps(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
                }
            }
            catch (Exception ex) when (ex is FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException or OverflowException)
            {
                throw new CliUsageException($"--adaptation '{text}' is not valid ({ex.Message.Split(" (Parameter")[0]}). {usage}");
            }
            throw new CliUsageException($"--adaptation '{text}' is not valid. {usage}");
        }
    }
}
