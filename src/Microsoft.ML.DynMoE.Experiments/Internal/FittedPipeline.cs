
namespace Microsoft.ML.DynMoE.Experiments.Internal
{
    /// <summary>Reads the DynMoE model of a fitted pipeline: finds it among the steps and reads its routing.</summary>
    internal static class FittedPipeline
    {
        /// <summary>The steps of a fitted pipeline in the order they run, nested chains flattened.</summary>
        internal static IEnumerable<ITransformer> Steps(ITransformer model)
            => model is IEnumerable<ITransformer> chain ? chain.SelectMany(Steps) : new[] { model };

        /// <summary>The DynMoE text or image model of a fitted pipeline, or null.</summary>
        internal static DynMoEEncoderModelParameters? FindEncoderModel(ITransformer model)
            => Steps(model).OfType<DynMoEEncoderTransformer>().FirstOrDefault()?.Model;

        /// <summary>The DynMoE tabular model parameters of a fitted pipeline, or null.</summary>
        internal static IDynMoEModelParameters? FindModel(ITransformer model)
            => Steps(model).Select(PredictorParameters).FirstOrDefault(p => p is not null);

        /// <summary>Applies the steps that precede the DynMoE predictor, which yields the predictor's feature column.</summary>
        internal static IDataView TransformUpToPredictor(ITransformer model, IDataView data)
        {
            foreach (var step in Steps(model))
            {
                if (PredictorParameters(step) is not null)
                    break;
                data = step.Transform(data);
            }
            return data;
        }

        /// <summary>Expert counts and activation of a fitted pipeline's DynMoE model (tabular, text or image); null when it has none or no MoE layer.</summary>
        internal static TrainedRouting? ReadRouting(ITransformer model)
        {
            var r = FindModel(model)?.Routing ?? FindEncoderModel(model)?.Routing;
            if (r is null || r.Layers.Count == 0)
                return null;
            return new TrainedRouting
            {
                FinalExperts = r.Layers.Average(l => (double)l.ActiveExperts),
                ActivatedPerToken = r.MeanActivatedExpertsPerToken,
                History = r.Layers.Select(l => (IReadOnlyList<int>)l.ExpertCountHistory.ToArray()).ToArray(),
            };
        }

        private static IDynMoEModelParameters? PredictorParameters(ITransformer step)
            => (step as IPredictionTransformer<object>)?.Model as IDynMoEModelParameters;
    }

    /// <summary>What a trial reports of a trained model's routing.</summary>
    internal sealed class TrainedRouting
    {
        /// <summary>Active experts per MoE layer at the end of training, averaged over layers.</summary>
        public double FinalExperts { get; init; }
        /// <summary>Mean activated experts per token on the training data.</summary>
        public double ActivatedPerToken { get; init; }
        /// <summary>Expert count after each epoch, per MoE layer.</summary>
        public IReadOnlyList<IReadOnlyList<int>> History { get; init; } = Array.Empty<IReadOnlyList<int>>();
    }
}
