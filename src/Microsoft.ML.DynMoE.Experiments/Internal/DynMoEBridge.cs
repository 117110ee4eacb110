using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Text;

namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>Where the experiments build DynMoE trainers (tabular, text, image) and read routing back from fitted models.</summary>
    internal static class DynMoEBridge
    {
        /// <summary>
        /// Builds the neural trainer of a candidate. <paramref name="configure"/> states the candidate's MoE settings on the
        /// tabular options; for text and image experiments those settings (gating, k, experts, adaptation, expert width)
        /// are carried over to the Transformer trainer, which otherwise keeps its own defaults for learning rate and batch.
        /// </summary>
        internal static IEstimator<ITransformer> CreateTrainer(CandidateBuildContext ctx, Action<DynMoETrainerOptionsBase> configure)
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
            o.LabelColumnName = s.LabelColumnName;
            o.FeatureColumnName = s.FeatureColumnName;
            o.ExampleWeightColumnName = s.ExampleWeightColumnName;
            o.NumberOfEpochs = s.NumberOfEpochs;
            o.ModelDimension = s.ModelDimension;
            o.ExpertHiddenDimension = s.ExpertHiddenDimension;
            o.NumberOfLayers = s.NumberOfLayers;
            o.BatchSize = s.BatchSize;
            o.LearningRate = s.LearningRate;
            o.Device = DynMoEDevice.Cpu;
            o.NumberOfThreads = s.NumberOfThreads;
            o.Seed = ctx.Seed;
            o.CancellationToken = ctx.CancellationToken;
            configure(o);
        }

        private static IEstimator<ITransformer> CreateEncoderTrainer(CandidateBuildContext ctx, Action<DynMoETrainerOptionsBase> configure)
        {
            var s = ctx.Settings;
            var spec = new DynMoEMulticlassTrainer.Options();
            configure(spec);
            void Apply(DynMoEEncoderOptionsBase o)
            {
                o.LabelColumnName = s.LabelColumnName;
                o.ExampleWeightColumnName = s.ExampleWeightColumnName;
                o.NumberOfEpochs = s.NumberOfEpochs;
                o.ModelDimension = s.ModelDimension;
                o.NumberOfLayers = s.NumberOfLayers;
                o.NumberOfThreads = s.NumberOfThreads;
                o.Device = DynMoEDevice.Cpu;
                o.Seed = ctx.Seed;
                o.CancellationToken = ctx.CancellationToken;
                o.Gating = spec.Gating;
                o.TopK = spec.TopK;
                o.InitialExperts = spec.InitialExperts;
                o.MaximumExperts = Math.Max(spec.MaximumExperts, spec.InitialExperts);
                o.Adaptation = spec.Adaptation;
                o.ExpertHiddenDimension = spec.ExpertHiddenDimension;
                o.AuxiliaryLossWeight = spec.AuxiliaryLossWeight;
                o.AuxiliaryLoss = spec.AuxiliaryLoss;
                o.ThresholdInitialization = spec.ThresholdInitialization;
                o.NewExpertInitialization = spec.NewExpertInitialization;
                o.ResetNewExpertOptimizerState = spec.ResetNewExpertOptimizerState;
                o.NewExpertWarmupSteps = spec.NewExpertWarmupSteps;
                o.GateLearningRateMultiplier = spec.GateLearningRateMultiplier;
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

        /// <summary>Finds the DynMoE text or image model inside a fitted pipeline, or null.</summary>
        internal static DynMoEEncoderModelParameters? FindEncoderModel(ITransformer model)
        {
            if (model is DynMoEEncoderTransformer encoder)
                return encoder.Model;
            if (model is IEnumerable<ITransformer> chain)
            {
                foreach (var inner in chain)
                {
                    if (FindEncoderModel(inner) is { } found)
                        return found;
                }
            }

            return null;
        }

        /// <summary>Finds the DynMoE model parameters inside a fitted pipeline, or null.</summary>
        internal static IDynMoEModelParameters? FindModel(ITransformer model)
        {
            if (IsPredictor(model, out var p))
                return p;
            if (model is IEnumerable<ITransformer> chain)
            {
                foreach (var inner in chain)
                {
                    var found = FindModel(inner);
                    if (found != null)
                        return found;
                }
            }
            return null;
        }

        /// <summary>Applies the transformers of a chain that precede the DynMoE predictor, to get its feature column.</summary>
        internal static IDataView TransformUpToPredictor(ITransformer model, IDataView data)
        {
            if (IsPredictor(model, out _))
                return data;
            if (model is IEnumerable<ITransformer> chain)
            {
                foreach (var inner in chain)
                {
                    if (IsPredictor(inner, out _))
                        return data;
                    if (inner is IEnumerable<ITransformer> && FindModel(inner) != null)
                        return TransformUpToPredictor(inner, data);
                    data = inner.Transform(data);
                }
            }
            return data;
        }

        private static bool IsPredictor(ITransformer t, out IDynMoEModelParameters? parameters)
        {
            parameters = (t as IPredictionTransformer<object>)?.Model as IDynMoEModelParameters;
            return parameters != null;
        }

        internal sealed class RoutingStats
        {
            public double FinalExperts;
            public double ActivatedPerToken;
            public IReadOnlyList<IReadOnlyList<int>> History = Array.Empty<IReadOnlyList<int>>();
        }

        internal static RoutingStats? GetRouting(ITransformer model)
        {
            var r = FindModel(model)?.Routing ?? FindEncoderModel(model)?.Routing;
            if (r == null)
                return null;
            if (r.Layers.Count == 0)
                return null;
            return new RoutingStats
            {
                FinalExperts = r.Layers.Average(l => (double)l.ActiveExperts),
                ActivatedPerToken = r.MeanActivatedExpertsPerToken,
                History = r.Layers.Select(l => (IReadOnlyList<int>)l.ExpertCountHistory.ToArray()).ToArray(),
            };
        }
    }
}
