
namespace Microsoft.ML.DynMoE.Experiments.Benchmark
{
    /// <summary>One data set of a benchmark: the data, its task and how to featurize it.</summary>
    public sealed class BenchmarkDataSet
    {
        /// <summary>Name shown in reports (for example the folder name).</summary>
        public required string Name { get; init; }

        /// <summary>The rows. Binary labels must be Boolean, regression labels Single; multiclass labels of any type are mapped to keys.</summary>
        public required IDataView Data { get; init; }

        /// <summary>Task of the data set.</summary>
        public required ExperimentTask Task { get; init; }

        /// <summary>Label column. Default "Label".</summary>
        public string LabelColumnName { get; init; } = "Label";

        /// <summary>Featurization producing the "Features" column (refit on every training fold); null when the data already has it.</summary>
        public Func<MLContext, IEstimator<ITransformer>>? Featurizer { get; init; }

        /// <summary>A free-text column: the neural candidates become DynMoE Transformer text classifiers (see <see cref="DynMoEExperimentSettings.TextColumnName"/>).</summary>
        public string? TextColumnName { get; init; }

        /// <summary>
        /// Image height in pixels: when set (with <see cref="ImageWidth"/>), the "Features" vector holds the pixels of an
        /// image and the neural candidates become DynMoE Vision Transformers (see <see cref="DynMoEExperimentSettings.ImageHeight"/>);
        /// the ML.NET candidates train on the pixels as features. Default 0: not an image data set.
        /// </summary>
        public int ImageHeight { get; init; }

        /// <summary>Image width in pixels (see <see cref="ImageHeight"/>).</summary>
        public int ImageWidth { get; init; }

        /// <summary>Channels per pixel; 0 infers it from the vector size (see <see cref="DynMoEExperimentSettings.Channels"/>).</summary>
        public int Channels { get; init; }
    }
}
