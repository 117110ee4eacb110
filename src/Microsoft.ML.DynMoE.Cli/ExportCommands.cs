using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Experiments.Internal;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>dynmoe export: a saved DynMoE model, featurization included, as an ONNX file (ML.NET's converter).</summary>
    internal static class ExportCommands
    {
        internal static int Export(CliIO io, string modelPath, string outputPath)
        {
            var ml = new MLContext(seed: 0);
            var (model, loader) = CliFiles.LoadModel(ml, modelPath);

            var steps = FittedPipeline.Steps(model).ToList();
            bool encoder = steps.Any(s => s is DynMoEEncoderTransformer);
            if (!encoder && !steps.Any(s => s is ISingleFeaturePredictionTransformer<object> p && p.Model is IDynMoEModelParameters))
            {
                throw new CliUsageException($"Model file '{modelPath}' holds no DynMoE model (it may be a baseline such as LightGbm). Export a model trained by 'dynmoe train' or a DynMoE 'best-model.zip'.");
            }

            // The whole saved pipeline goes through ML.NET's converter: the graph's inputs are the CSV columns the model's
            // loader reads, its outputs the scorer's columns (ML.NET names them '<column>.output').
            IDataView input = loader.Load(new MultiFileSource(null));
            var scored = model.GetOutputSchema(input.Schema);
            var outputs = new[] { "Score", "Probability", "PredictedLabel" }
                .Where(n => scored.GetColumnOrNull(n) is not null).ToArray();
            var onnx = new MemoryStream();
            try
            {
                ml.Model.ConvertToOnnx(model, input, onnx, outputs);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // ML.NET's converter fails for some of its own steps (text featurization among them); name the steps.
                throw new CliUsageException(
                    $"ML.NET's ONNX converter could not convert the pipeline in '{modelPath}' ({ex.GetType().Name}: {ex.Message}). " +
                    $"Its steps: {string.Join(", ", steps.Select(Describe))}. Tabular models (numeric and categorical columns) convert; text columns may not." +
                    (encoder ? " DynMoE image models convert from their pixel columns; DynMoE text models export from token codes through the API (TokenizeForDynMoE and WithTokenInput, docs/onnx.md), not from this command yet." : ""));
            }

            string fullPath = CliFiles.PrepareOutputFile(outputPath);
            File.WriteAllBytes(fullPath, onnx.ToArray());

            io.Output.WriteLine($"Wrote {fullPath}");
            var inputs = input.Schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}' {c.Type}").ToList();
            // Pixel data sets have hundreds of columns: name the first ones and count the rest.
            string shown = inputs.Count <= 12 ? string.Join(", ", inputs) : $"{string.Join(", ", inputs.Take(8))}, … ({inputs.Count} columns)";
            io.Output.WriteLine($"  inputs:  {shown}");
            io.Output.WriteLine($"  outputs: {string.Join(", ", outputs.Select(n => $"'{n}.output' {scored[n].Type}"))}");
            return DynMoECli.ExitOk;
        }

        private static string Describe(ITransformer step)
        {
            var type = step.GetType();
            string name = type.Name.Split('`')[0];
            return type.DeclaringType is { } outer ? $"{outer.Name.Split('`')[0]}.{name}" : name;
        }
    }
}
