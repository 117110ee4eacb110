using Microsoft.ML.DynMoE.Experiments.Internal;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Trainers.LightGbm;

namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>One model configuration that an experiment trains on every fold.</summary>
    public sealed class ExperimentCandidate
    {
        private readonly Func<CandidateBuildContext, IEstimator<ITransformer>> _createTrainer;

        private ExperimentCandidate(string name, CandidateFamily family, int? k, int? experts, double relativeCost, Func<CandidateBuildContext, IEstimator<ITransformer>> createTrainer)
        {
            if (string.IsNullOrWhiteSpace(name))
                throw new ArgumentException("A candidate needs a non-empty name.", nameof(name));
            Name = name;
            Family = family;
            K = k;
            Experts = experts;
            RelativeCost = relativeCost;
            _createTrainer = createTrainer ?? throw new ArgumentNullException(nameof(createTrainer));
        }

        /// <summary>Unique name shown in the leaderboard.</summary>
        public string Name { get; }
        /// <summary>Family.</summary>
        public CandidateFamily Family { get; }
        /// <summary>Fixed k (top-k candidates).</summary>
        public int? K { get; }
        /// <summary>Initial experts per layer (MoE candidates).</summary>
        public int? Experts { get; }
        /// <summary>A-priori relative cost used by <see cref="CostFrugalTuner"/> (1 = a linear model).</summary>
        public double RelativeCost { get; }

        /// <summary>Builds a fresh trainer estimator. Called once per fold so that no fitted state is shared.</summary>
        public IEstimator<ITransformer> CreateTrainer(CandidateBuildContext context) => _createTrainer(context);

        /// <summary>A user-defined candidate.</summary>
        /// <param name="name">Unique name.</param>
        /// <param name="family">Family reported in the leaderboard.</param>
        /// <param name="createTrainer">Builds the trainer (it reads <see cref="CandidateBuildContext.FeatureColumnName"/> and the label).</param>
        /// <param name="relativeCost">Cost hint for the cost-aware tuner.</param>
        /// <param name="k">Fixed k, if meaningful.</param>
        /// <param name="experts">Expert count, if meaningful.</param>
        public static ExperimentCandidate Custom(string name, CandidateFamily family, Func<CandidateBuildContext, IEstimator<ITransformer>> createTrainer, double relativeCost = 1, int? k = null, int? experts = null)
            => new ExperimentCandidate(name, family, k, experts, relativeCost, createTrainer);

        /// <summary>DynMoE: top-any gating, adaptive expert count starting from <paramref name="initialExperts"/>.</summary>
        /// <param name="initialExperts">Initial experts per layer.</param>
        /// <param name="configure">Optional change of the trainer options after the experiment defaults are applied.</param>
        public static ExperimentCandidate DynMoE(int initialExperts = 4, Action<DynMoETrainerOptionsBase>? configure = null)
            => new ExperimentCandidate("DynMoE", CandidateFamily.DynMoE, null, initialExperts, 40 + initialExperts, ctx => NeuralTrainerFactory.Create(ctx, o =>
            {
                o.Gating = GatingKind.TopAny;
                o.InitialExperts = initialExperts;
                ctx.Settings.ApplyDynMoEOptions(o);
                configure?.Invoke(o);
            }));

        /// <summary>Fixed top-k MoE with <paramref name="experts"/> experts per layer and no adaptation.</summary>
        /// <param name="k">Experts activated per token.</param>
        /// <param name="experts">Experts per layer.</param>
        /// <param name="configure">Optional change of the trainer options.</param>
        public static ExperimentCandidate TopK(int k, int experts, Action<DynMoETrainerOptionsBase>? configure = null)
        {
            if (k < 1 || k > experts)
                throw new ArgumentOutOfRangeException(nameof(k), $"k must be between 1 and the number of experts ({experts}); got {k}.");
            return new ExperimentCandidate($"TopK(k={k},experts={experts})", CandidateFamily.TopK, k, experts, 20 + 2 * k + experts, ctx => NeuralTrainerFactory.Create(ctx, o =>
            {
                o.Gating = GatingKind.TopK;
                o.TopK = k;
                o.InitialExperts = experts;
                o.MaximumExperts = experts;
                o.Adaptation = AdaptationSchedule.Off;
                configure?.Invoke(o);
            }));
        }

        /// <summary>Dense network: the same layers with one feed-forward block of width <paramref name="width"/>
        /// (default 2 x <see cref="DynMoEExperimentSettings.ExpertHiddenDimension"/>, the compute of top-2 routing).</summary>
        /// <param name="width">Feed-forward width; null for the matched default.</param>
        /// <param name="configure">Optional change of the trainer options.</param>
        public static ExperimentCandidate Dense(int? width = null, Action<DynMoETrainerOptionsBase>? configure = null)
            => new ExperimentCandidate("Dense", CandidateFamily.Dense, null, null, 15, ctx => NeuralTrainerFactory.Create(ctx, o =>
            {
                o.Gating = GatingKind.Dense;
                o.InitialExperts = 1;
                o.MaximumExperts = 1;
                o.Adaptation = AdaptationSchedule.Off;
                o.ExpertHiddenDimension = width ?? 2 * ctx.Settings.ExpertHiddenDimension;
                configure?.Invoke(o);
            }));

        /// <summary>ML.NET LightGBM for the task (after <c>FeaturizeText</c> in a text experiment).</summary>
        public static ExperimentCandidate LightGbm()
            => new ExperimentCandidate("LightGbm", CandidateFamily.LightGbm, null, null, 4, ctx =>
            {
                var t = ctx.MLContext;
                return WithTextFeatures(ctx, ctx.Task switch
                {
                    ExperimentTask.MulticlassClassification => t.MulticlassClassification.Trainers.LightGbm(new LightGbmMulticlassTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, MinimumExampleCountPerLeaf = 5, Seed = ctx.Seed, NumberOfThreads = 1 }),
                    ExperimentTask.BinaryClassification => t.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, MinimumExampleCountPerLeaf = 5, Seed = ctx.Seed, NumberOfThreads = 1 }),
                    _ => t.Regression.Trainers.LightGbm(new LightGbmRegressionTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, MinimumExampleCountPerLeaf = 5, Seed = ctx.Seed, NumberOfThreads = 1 }),
                });
            });

        /// <summary>ML.NET FastTree for the task (one-versus-all FastTree binary for multiclass; after <c>FeaturizeText</c> in a text experiment).</summary>
        public static ExperimentCandidate FastTree()
            => new ExperimentCandidate("FastTree", CandidateFamily.FastTree, null, null, 5, ctx =>
            {
                var t = ctx.MLContext;
                return WithTextFeatures(ctx, ctx.Task switch
                {
                    ExperimentTask.MulticlassClassification => t.MulticlassClassification.Trainers.OneVersusAll(
                        t.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
                        { FeatureColumnName = ctx.FeatureColumnName, MinimumExampleCountPerLeaf = 5, NumberOfThreads = 1, Seed = ctx.Seed }),
                        labelColumnName: ctx.LabelColumnName),
                    ExperimentTask.BinaryClassification => t.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, MinimumExampleCountPerLeaf = 5, NumberOfThreads = 1, Seed = ctx.Seed }),
                    _ => t.Regression.Trainers.FastTree(new FastTreeRegressionTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, MinimumExampleCountPerLeaf = 5, NumberOfThreads = 1, Seed = ctx.Seed }),
                });
            });

        /// <summary>
        /// ML.NET SDCA: maximum entropy (multiclass), logistic regression (binary) or SDCA regression, after mean-variance
        /// normalization; in a text experiment, on <c>FeaturizeText</c> alone (ML.NET's text recipe) with SDCA's own convergence check.
        /// </summary>
        public static ExperimentCandidate Sdca()
            => new ExperimentCandidate("Sdca", CandidateFamily.Sdca, null, null, 1, ctx =>
            {
                var t = ctx.MLContext;
                // On text, SDCA's own convergence check instead of a fixed cap (the sparse n-gram problem needs no cap).
                int? iterations = ctx.Settings.TextColumnName is null ? 100 : null;
                IEstimator<ITransformer> trainer = ctx.Task switch
                {
                    ExperimentTask.MulticlassClassification => t.MulticlassClassification.Trainers.SdcaMaximumEntropy(new SdcaMaximumEntropyMulticlassTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, NumberOfThreads = 1, MaximumNumberOfIterations = iterations }),
                    ExperimentTask.BinaryClassification => t.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, NumberOfThreads = 1, MaximumNumberOfIterations = iterations }),
                    _ => t.Regression.Trainers.Sdca(new SdcaRegressionTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, NumberOfThreads = 1, MaximumNumberOfIterations = iterations }),
                };
                return WithLinearFeatures(ctx, trainer);
            });

        /// <summary>ML.NET L-BFGS: maximum entropy (multiclass), logistic regression (binary) or Poisson regression (needs non-negative labels), after mean-variance normalization (on <c>FeaturizeText</c> alone in a text experiment).</summary>
        public static ExperimentCandidate Lbfgs()
            => new ExperimentCandidate("Lbfgs", CandidateFamily.Lbfgs, null, null, 1.5, ctx =>
            {
                var t = ctx.MLContext;
                IEstimator<ITransformer> trainer = ctx.Task switch
                {
                    ExperimentTask.MulticlassClassification => t.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, NumberOfThreads = 1, MaximumNumberOfIterations = 100 }),
                    ExperimentTask.BinaryClassification => t.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, NumberOfThreads = 1, MaximumNumberOfIterations = 100 }),
                    _ => t.Regression.Trainers.LbfgsPoissonRegression(new LbfgsPoissonRegressionTrainer.Options
                    { LabelColumnName = ctx.LabelColumnName, FeatureColumnName = ctx.FeatureColumnName, ExampleWeightColumnName = ctx.ExampleWeightColumnName, NumberOfThreads = 1, MaximumNumberOfIterations = 100 }),
                };
                return WithLinearFeatures(ctx, trainer);
            });

        /// <summary>
        /// The features of the linear candidates (SDCA, L-BFGS): mean-variance normalised, or in a text experiment
        /// <c>FeaturizeText</c> alone — it already L2-normalises its sparse n-grams, and mean-variance scaling would blow up
        /// the rare ones (tiny variance) and make SDCA diverge.
        /// </summary>
        private static IEstimator<ITransformer> WithLinearFeatures(CandidateBuildContext ctx, IEstimator<ITransformer> trainer)
            => ctx.Settings.TextColumnName is null
                ? ctx.MLContext.Transforms.NormalizeMeanVariance(ctx.FeatureColumnName).Append(trainer)
                : WithTextFeatures(ctx, trainer);

        /// <summary>In a text experiment, ML.NET's <c>FeaturizeText</c> (word and character n-grams) of the text column into the feature column first.</summary>
        private static IEstimator<ITransformer> WithTextFeatures(CandidateBuildContext ctx, IEstimator<ITransformer> trainer)
            => ctx.Settings.TextColumnName is string text
                ? ctx.MLContext.Transforms.Text.FeaturizeText(ctx.FeatureColumnName, text).Append(trainer)
                : trainer;

        /// <summary>The default candidate list, in the grid tuner's order: DynMoE first, then the cheap ML.NET baselines (LightGbm, FastTree,
        /// Sdca, Lbfgs) so a short time budget still yields a comparison, then Dense, then TopK with k in {1,2,4} x experts in {4,8,16}
        /// (k &lt;= experts; experts in the outer loop so the cheaper, smaller banks come first).</summary>
        public static IReadOnlyList<ExperimentCandidate> CreateDefaults()
        {
            var list = new List<ExperimentCandidate> { DynMoE(), LightGbm(), FastTree(), Sdca(), Lbfgs(), Dense() };
            foreach (int e in new[] { 4, 8, 16 })
                foreach (int k in new[] { 1, 2, 4 })
                    if (k <= e)
                        list.Add(TopK(k, e));
            return list;
        }

        /// <summary>
        /// The default candidates for the experiment's modality. Tabular: <see cref="CreateDefaults()"/>. Text and images
        /// (Transformer encoders, far costlier per epoch): DynMoE, top-k with k in {1,2} x experts in {4,8}, dense, then
        /// LightGbm and Sdca (on <c>FeaturizeText</c> of the text, or on the raw pixels).
        /// </summary>
        /// <param name="settings">The experiment settings.</param>
        public static IReadOnlyList<ExperimentCandidate> CreateDefaults(DynMoEExperimentSettings settings)
        {
            ArgumentNullException.ThrowIfNull(settings);
            if (settings.Modality == ExperimentModality.Tabular)
                return CreateDefaults();
            var list = new List<ExperimentCandidate> { DynMoE(), LightGbm(), Sdca(), Dense() };
            foreach (int e in new[] { 4, 8 })
                foreach (int k in new[] { 1, 2 })
                    list.Add(TopK(k, e));
            return list;
        }

        /// <inheritdoc/>
        public override string ToString() => Name;
    }
}
