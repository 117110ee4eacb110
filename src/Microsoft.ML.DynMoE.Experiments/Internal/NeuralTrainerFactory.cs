
namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>Builds the DynMoE trainer of a neural candidate (DynMoE, top-k or dense) for the experiment's task and modality.</summary>
    internal static class NeuralTrainerFactory
    {
        /// <summary>
        /// Builds the neural trainer of a candidate. <paramref name="configure"/> states the candidate's settings on the
        /// trainer's options after the experiment's (label, epochs, widths, threads, seed): the tabular trainer's for tabular
        /// data, the text or image trainer's otherwise, which keep their own defaults for everything else.
        /// </summary>
        internal static IEstimator<ITransformer> Create(CandidateBuildContext ctx, Action<DynMoETrainerOptionsBase> configure)
        {
            var t = ctx.MLContext;
            if (ctx.Settings.Modality != ExperimentModality.Tabular)
                return CreateEncoderTrainer(ctx, configure);
            switch (ctx.Task)
            {
                case ExperimentTask.MulticlassClassification:
                {
                    var o = new DynMoEMulticlassTrainer.Options();
                    Apply(o, ctx, configure);
                    return t.MulticlassClassification.Trainers.DynMoE(o);
                }
                case ExperimentTask.BinaryClassification:
                {
                    var o = new DynMoEBinaryTrainer.Options();
                    Apply(o, ctx, configure);
                    return t.BinaryClassification.Trainers.DynMoE(o);
                }
                default:
                {
                    var o = new DynMoERegressionTrainer.Options();
                    Apply(o, ctx, configure);
                    return t.Regression.Trainers.DynMoE(o);
                }
            }
        }

        private static void Apply(DynMoETrainerOptionsBase o, CandidateBuildContext ctx, Action<DynMoETrainerOptionsBase> configure)
        {
            var s = ctx.Settings;
            ApplyExperiment(o, ctx);
            o.FeatureColumnName = s.FeatureColumnName;
            o.BatchSize = s.BatchSize;
            o.LearningRate = s.LearningRate;
            configure(o);
        }

        /// <summary>What every neural candidate takes from the experiment, tabular or encoder.</summary>
        private static void ApplyExperiment(DynMoETrainerOptionsBase o, CandidateBuildContext ctx)
        {
            var s = ctx.Settings;
            o.LabelColumnName = s.LabelColumnName;
            o.ExampleWeightColumnName = s.ExampleWeightColumnName;
            o.NumberOfEpochs = s.NumberOfEpochs;
            o.ModelDimension = s.ModelDimension;
            o.ExpertHiddenDimension = s.ExpertHiddenDimension;
            o.NumberOfLayers = s.NumberOfLayers;
            o.Device = DynMoEDevice.Cpu;
            o.NumberOfThreads = s.NumberOfThreads;
            o.Seed = ctx.Seed;
            o.CancellationToken = ctx.CancellationToken;
        }

        private static IEstimator<ITransformer> CreateEncoderTrainer(CandidateBuildContext ctx, Action<DynMoETrainerOptionsBase> configure)
        {
            var s = ctx.Settings;
            // The candidate states its settings on the trainer's own options, after the experiment's: what it leaves alone
            // keeps the encoders' defaults, and whatever it (a variant, a CLI flag) sets, including encoder-only options, stays.
            void Apply(DynMoEEncoderOptionsBase o)
            {
                ApplyExperiment(o, ctx);
                configure(o);
                o.MaximumExperts = Math.Max(o.MaximumExperts, o.InitialExperts);
                if (o.ModelDimension % o.NumberOfHeads != 0)
                    o.NumberOfHeads = 1;
            }

            var t = ctx.MLContext;
            if (s.Modality == ExperimentModality.Text)
            {
                T Text<T>(T o) where T : DynMoETextOptionsBase
                {
                    o.Sentence1ColumnName = s.TextColumnName!;
                    o.MaximumSequenceLength = s.MaximumSequenceLength;
                    o.Encoder = s.TextEncoder;
                    Apply(o);
                    return o;
                }

                return ctx.Task switch
                {
                    ExperimentTask.BinaryClassification => t.BinaryClassification.Trainers.DynMoETextClassification(Text(new DynMoEBinaryTextClassificationTrainer.Options())),
                    ExperimentTask.MulticlassClassification => t.MulticlassClassification.Trainers.DynMoETextClassification(Text(new DynMoEMulticlassTextClassificationTrainer.Options())),
                    _ => throw new NotSupportedException("Text experiments are classification experiments; DynMoE has no text regression trainer."),
                };
            }

            if (ctx.Task != ExperimentTask.MulticlassClassification)
                throw new NotSupportedException("Image experiments are multiclass classification experiments.");
            var image = new DynMoEImageClassificationTrainer.Options
            {
                FeatureColumnName = s.FeatureColumnName, ImageHeight = s.ImageHeight, ImageWidth = s.ImageWidth,
                Channels = s.Channels, InterleavedColors = s.InterleavedColors,
            };
            if (s.PatchSize > 0)
                image.PatchSize = s.PatchSize;
            Apply(image);
            return t.MulticlassClassification.Trainers.DynMoEImageClassification(image);
        }
    }
}
