using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Sequence;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>dynmoe export: a saved DynMoE model, featurization included, as an ONNX file (ML.NET's converter).</summary>
    internal static class ExportCommands
    {
        internal static int Export(CliIO io, string modelPath, string outputPath)
        {
            if (!File.Exists(modelPath))
                throw new CliUsageException($"Model file '{modelPath}' was not found. Pass the .zip written by 'dynmoe train --model' or 'best-model.zip' from an experiment's --output directory.");
            var ml = new MLContext(seed: 0);
            ITransformer model;
            IDataLoader<IMultiStreamSource> loader;
            try
            {
                model = ml.Model.LoadWithDataLoader(modelPath, out loader);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new CliUsageException($"Model file '{modelPath}' could not be loaded ({ex.Message}). Use a model saved by 'dynmoe train' or 'dynmoe classification/regression'.");
            }

            var steps = Flatten(model).ToList();
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
                    (encoder ? " DynMoE image models convert from their pixel columns; DynMoE text models do not export to ONNX yet." : ""));
            }

            string fullPath = Path.GetFullPath(outputPath);
            string? dir = Path.GetDirectoryName(fullPath);
            if (!string.IsNullOrEmpty(dir))
                Directory.CreateDirectory(dir);
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

        private static IEnumerable<ITransformer> Flatten(ITransformer model)
            => model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : new[] { model };
    }
}
