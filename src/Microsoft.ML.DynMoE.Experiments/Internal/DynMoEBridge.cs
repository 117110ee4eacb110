using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Data;

namespace Microsoft.ML.DynMoE.Experiments
{
    /// <summary>The only place that talks to the DynMoE trainer API.</summary>
    internal static class DynMoEBridge
    {
        internal static IEstimator<ITransformer> CreateTrainer(CandidateBuildContext ctx, Action<DynMoETrainerOptionsBase> configure)
        {
            var t = ctx.MLContext;
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
            var p = FindModel(model);
            if (p == null)
                return null;
            var r = p.Routing;
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
