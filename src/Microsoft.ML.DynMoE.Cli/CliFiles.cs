using Microsoft.ML.Data;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>The files the commands read and write, with the usage errors a user can act on.</summary>
    internal static class CliFiles
    {
        /// <summary>Loads a model saved with its data loader (every model the CLI writes has one).</summary>
        internal static (ITransformer Model, IDataLoader<IMultiStreamSource> Loader) LoadModel(MLContext ml, string modelPath)
        {
            if (!File.Exists(modelPath))
                throw new CliUsageException($"Model file '{modelPath}' was not found. Pass the .zip written by 'dynmoe train --model' or 'best-model.zip' from an experiment's --output directory.");
            try
            {
                var model = ml.Model.LoadWithDataLoader(modelPath, out var loader);
                return (model, loader);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new CliUsageException($"Model file '{modelPath}' could not be loaded ({ex.Message}). Use a model saved by 'dynmoe train' or 'dynmoe classification/regression'.");
            }
        }

        /// <summary>Fails with a usage error when the --dataset file does not exist.</summary>
        internal static void RequireDataset(string dataset)
        {
            if (!File.Exists(dataset))
                throw new CliUsageException($"Dataset file '{dataset}' was not found. Check the path passed to --dataset.");
        }

        /// <summary>The full path of an output file, its folder created.</summary>
        internal static string PrepareOutputFile(string path)
        {
            string full = Path.GetFullPath(path);
            string? directory = Path.GetDirectoryName(full);
            if (!string.IsNullOrEmpty(directory))
                Directory.CreateDirectory(directory);
            return full;
        }

        /// <summary>The full path of the --output folder, created; a folder that cannot be created is a usage error.</summary>
        internal static string CreateOutputDirectory(string path)
        {
            string full = Path.GetFullPath(path);
            try
            {
                Directory.CreateDirectory(full);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new CliUsageException($"Output directory '{path}' cannot be created: {ex.Message}. Choose another --output.");
            }
            return full;
        }
    }
}
