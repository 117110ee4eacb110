using Microsoft.ML.Transforms.Text;

namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>
    /// Named DynMoE configurations for ablations and the defaults study (<c>dynmoe benchmark --variants</c>): each changes
    /// one option from the defaults, and names joined by '+' (e.g. <c>theta-0+init-copy+validation-es</c>) apply together.
    /// </summary>
    public static class DynMoEVariantCatalog
    {
        private static readonly (string Name, string Description, Action<DynMoETrainerOptionsBase> Configure)[] Entries =
        {
            ("aux-balance-efficiency", "adds the DeepSpeed fork's load-balance and efficiency terms (AuxiliaryLoss = DiverseSimpleBalanceEfficiency)", o => o.AuxiliaryLoss = AuxiliaryLossKind.DiverseSimpleBalanceEfficiency),
            ("init-copy", "an added expert copies the most-loaded active expert (NewExpertInitialization = CopyMostLoaded)", o => o.NewExpertInitialization = NewExpertInitialization.CopyMostLoaded),
            ("init-mean", "an added expert starts as the mean of the active experts (NewExpertInitialization = MeanOfActive)", o => o.NewExpertInitialization = NewExpertInitialization.MeanOfActive),
            ("reset-optimizer", "an added expert gets fresh AdamW moments and step count (ResetNewExpertOptimizerState)", o => o.ResetNewExpertOptimizerState = true),
            ("warmup-50", "an added expert's updates ramp up over 50 steps (NewExpertWarmupSteps = 50)", o => o.NewExpertWarmupSteps = 50),
            ("gate-lr-0.3", "gate embeddings and thresholds learn at 0.3x the rate (GateLearningRateMultiplier = 0.3)", o => o.GateLearningRateMultiplier = 0.3f),
            ("theta-0", "thresholds start at 0, the paper's value and the tabular and text default; the image default before the encoders' study (ThresholdInitialization = 0)", o => o.ThresholdInitialization = 0f),
            ("theta-0.1", "thresholds start at 0.1 (ThresholdInitialization = 0.1)", o => o.ThresholdInitialization = 0.1f),
            ("theta-0.25", "thresholds start at 0.25, the tabular default before the defaults study and the image default (ThresholdInitialization = 0.25)", o => o.ThresholdInitialization = 0.25f),
            ("theta-0.5", "thresholds start at 0.5 (ThresholdInitialization = 0.5)", o => o.ThresholdInitialization = 0.5f),
            ("window-full-epoch", "adaptation records the whole epoch (AdaptationSchedule.PerEpochWindow(0, 1))", o => o.Adaptation = AdaptationSchedule.PerEpochWindow(0, 1)),
            ("no-adaptation", "top-any gating with a fixed expert set (AdaptationSchedule.Off)", o => o.Adaptation = AdaptationSchedule.Off),
            ("validation-es", "hold out 10% of the training rows and stop after 5 epochs without improvement, the default (ValidationFraction = 0.1, EarlyStoppingPatience = 5)", o => { o.ValidationFraction = 0.1f; o.EarlyStoppingPatience = 5; }),
            ("dropout-0.1", "dropout 0.1 on every MoE layer's (and attention's) output before the residual sum (Dropout = 0.1)", o => o.Dropout = 0.1f),
            ("dropout-0.2", "dropout 0.2 on every MoE layer's (and attention's) output before the residual sum (Dropout = 0.2)", o => o.Dropout = 0.2f),
            ("no-validation", "no held-out rows, every epoch runs (ValidationFraction = 0, EarlyStoppingPatience = 0)", o => { o.ValidationFraction = 0f; o.EarlyStoppingPatience = 0; }),
            ("no-dropout", "no dropout (Dropout = 0)", o => o.Dropout = 0f),
            ("previous-defaults", "the tabular defaults before the defaults study: θ = 0.25, no validation or early stopping, no dropout", o =>
            {
                o.ThresholdInitialization = 0.25f;
                o.ValidationFraction = 0f;
                o.EarlyStoppingPatience = 0;
                o.Dropout = 0f;
            }),
            ("case-lower", "text from scratch is lower-cased before it is tokenized, the default (CaseMode = Lower)", o => Text(o, "case-lower").CaseMode = TextNormalizingEstimator.CaseMode.Lower),
            ("case-none", "text from scratch keeps its case (the leading space stays; CaseMode = None)", o => Text(o, "case-none").CaseMode = TextNormalizingEstimator.CaseMode.None),
            ("experts-max-8", "at most 8 experts per layer (MaximumExperts = 8)", o => o.MaximumExperts = 8),
            (FrozenEncoder, "text with a pretrained encoder: train only a DynMoE head on the frozen encoder's sentence embeddings (FineTuning = FrozenEncoder)", o =>
                Text(o, FrozenEncoder, " with a pretrained encoder (dynmoe benchmark --text-encoder minilm)").FineTuning = DynMoEFineTuning.FrozenEncoder),
        };

        // Text-only variants, so 'all' (an ablation over any data) leaves them out.
        private const string FrozenEncoder = "frozen-encoder";
        private static readonly string[] TextOnly = { FrozenEncoder, "case-lower", "case-none" };

        private static DynMoETextOptionsBase Text(DynMoETrainerOptionsBase options, string variant, string which = " (a data set with a text column)")
            => options as DynMoETextOptionsBase
               ?? throw new ArgumentException($"The variant '{variant}' applies to text candidates{which}.");

        /// <summary>Known variant names.</summary>
        public static IReadOnlyList<string> Names => Entries.Select(e => e.Name).ToArray();

        /// <summary>One line per variant: name and what it changes.</summary>
        public static IReadOnlyList<string> Describe() => Entries.Select(e => $"{e.Name}: {e.Description}").ToArray();

        /// <summary>Parses a comma-separated list of names, or "all".</summary>
        /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
        public static IReadOnlyList<DynMoEVariant> Parse(string names)
        {
            ArgumentNullException.ThrowIfNull(names);
            var wanted = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (wanted.Length == 1 && wanted[0].Equals("all", StringComparison.OrdinalIgnoreCase))
                return Entries.Where(e => !TextOnly.Contains(e.Name)).Select(e => new DynMoEVariant(e.Name, e.Configure)).ToArray();
            var result = new List<DynMoEVariant>();
            foreach (var w in wanted)
            {
                var parts = w.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Find).ToArray();
                result.Add(parts.Length == 1
                    ? new DynMoEVariant(parts[0].Name, parts[0].Configure)
                    : new DynMoEVariant(string.Join("+", parts.Select(p => p.Name)), o => { foreach (var p in parts) p.Configure(o); }));
            }
            return result;

            (string Name, string Description, Action<DynMoETrainerOptionsBase> Configure) Find(string name)
            {
                var entry = Entries.FirstOrDefault(e => e.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
                return entry.Name is not null ? entry
                    : throw new ArgumentException($"Unknown DynMoE variant '{name}'. Known: {string.Join(", ", Names)}, or 'all'; join names with '+' to combine them.", nameof(names));
            }
        }
    }
}
