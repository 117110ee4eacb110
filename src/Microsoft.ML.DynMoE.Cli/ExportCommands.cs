using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments.Internal;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>dynmoe export: a saved model's DynMoE step as an ONNX file.</summary>
    internal static class ExportCommands
    {
        internal static int Export(CliIO io, string modelPath, string outputPath)
        {
            var ml = new MLContext(seed: 0);
            var (model, loader) = CliFiles.LoadModel(ml, modelPath);

            // The CLI's models featurize the CSV columns first (concatenation, missing-value replacement, one-hot, text);
            // the ONNX file holds the DynMoE step, whose input is that featurized vector.
            var steps = FittedPipeline.Steps(model).ToList();
            int index = steps.FindLastIndex(s => s is ISingleFeaturePredictionTransformer<object> p && p.Model is IDynMoEModelParameters);
            if (index < 0)
            {
                if (steps.Any(s => s is DynMoEEncoderTransformer))
                    throw new CliUsageException("ONNX export of text and image DynMoE models is not supported yet; only tabular DynMoE models can be exported.");
                throw new CliUsageException($"Model file '{modelPath}' holds no DynMoE model (it may be a baseline such as LightGbm). Export a model trained by 'dynmoe train' or a DynMoE 'best-model.zip'.");
            }
            var predictor = (ISingleFeaturePredictionTransformer<object>)steps[index];
            IDataView input = loader.Load(new MultiFileSource(null));
            foreach (var step in steps.Take(index))
                input = step.Transform(input);

            string fullPath = CliFiles.PrepareOutputFile(outputPath);
            using (var stream = File.Create(fullPath))
                ml.Model.ConvertDynMoEToOnnx(predictor, input, stream);

            var features = input.Schema[predictor.FeatureColumnName];
            int width = features.Type is VectorDataViewType v ? v.Size : 1;
            io.Output.WriteLine($"Wrote {fullPath}");
            io.Output.WriteLine($"  input  '{predictor.FeatureColumnName}': float [N, {width}]");
            io.Output.WriteLine($"  outputs: {string.Join(", ", Outputs(predictor))}");
            var left = steps.Where((s, i) => i != index).Select(s => s.GetType().Name.Split('`')[0]).ToList();
            if (left.Count > 0)
                io.Output.WriteLine($"  not in the ONNX file (run them before/after ONNX Runtime): {string.Join(", ", left)}");
            return DynMoECli.ExitOk;
        }

        private static IEnumerable<string> Outputs(ITransformer predictor) => predictor switch
        {
            BinaryPredictionTransformer<DynMoEBinaryModelParameters> => new[] { "Score", "Probability", "PredictedLabel" },
            MulticlassPredictionTransformer<DynMoEMulticlassModelParameters> => new[] { "Score", "PredictedLabel (1-based class index)" },
            _ => new[] { "Score" },
        };
    }
}
