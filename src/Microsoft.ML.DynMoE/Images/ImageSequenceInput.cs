using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Images;

/// <summary>A known-size Single vector of <c>Height × Width × Channels</c> pixels in ML.NET's ExtractPixels layout, cut into patches.</summary>
internal sealed class ImageSequenceInput(string featureColumn, PatchGeometry geometry, double pixelMean, double pixelStandardDeviation) : SequenceInput
{
    public string FeatureColumn { get; } = featureColumn;

    public PatchGeometry Geometry { get; } = geometry;

    public double PixelMean { get; } = pixelMean;

    public double PixelStandardDeviation { get; } = pixelStandardDeviation;

    public override IReadOnlyList<string> ColumnNames => new[] { FeatureColumn };

    public override int MaximumWidth => Geometry.PixelCount;

    public override (int Rows, int Columns) PositionGrid => (Geometry.PatchRows, Geometry.PatchColumns);

    private protected override int Kind => ImageKind;

    public override void CheckEmbedding(CompiledInputEmbedding embedding)
    {
        if (embedding is not CompiledPatchEmbedding)
            throw new InvalidDataException("The DynMoE image model has no patch embedding; the model file is damaged.");
        if (embedding.InputWidth != MaximumWidth)
            throw new InvalidDataException("The DynMoE encoder's input embedding does not match the model's input featurization.");
    }

    public override void CheckSchema(SchemaShape schema, string dataName) => CheckFeatureColumn(schema, dataName, FeatureColumn, Geometry.Height, Geometry.Width, Geometry.Channels);

    /// <summary>Checks the pixel column and returns its size; <paramref name="channels"/> 0 accepts any whole number of channels.</summary>
    public static int CheckFeatureColumn(SchemaShape schema, string dataName, string name, int height, int width, int channels)
    {
        if (!schema.TryFindColumn(name, out var column))
            throw new ArgumentOutOfRangeException("FeatureColumnName",
                $"Feature column '{name}' was not found in the {dataName} data. Produce it with mlContext.Transforms.ExtractPixels (or load the pixel columns as one vector) or set FeatureColumnName.");
        if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException("FeatureColumnName",
                $"Feature column '{name}' must be a known-size vector of Single pixel values, but it is {ColumnChecks.Describe(column)}. " +
                "Use mlContext.Transforms.ExtractPixels after LoadImages and ResizeImages, or Concatenate the pixel columns.");
        return 0;
    }

    public override SequenceRowReader CreateReader(DataViewRow row)
    {
        var getter = row.GetGetter<VBuffer<float>>(row.Schema[FeatureColumn]);
        var buffer = default(VBuffer<float>);
        int size = MaximumWidth;
        return destination =>
        {
            getter(ref buffer);
            if (buffer.Length != size)
                throw new InvalidOperationException($"Feature column '{FeatureColumn}' has {buffer.Length} values, but the model reads {Geometry.Height}×{Geometry.Width}×{Geometry.Channels} = {size} pixels.");
            buffer.CopyTo(destination[..size]);
            return size;
        };
    }

    public override InputEmbedding CreateEmbedding(int modelDimension, Generator generator)
    {
        var (height, width, channels, patchSize, interleaved) = Geometry;
        var embedding = new PatchEmbedding("embedding", height, width, channels, patchSize, interleaved, modelDimension, generator);
        embedding.SetPixelStatistics(PixelMean, PixelStandardDeviation);
        return embedding;
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        writer.Write(FeatureColumn);
        Geometry.Write(writer);
        writer.Write(PixelMean);
        writer.Write(PixelStandardDeviation);
    }

    public static new ImageSequenceInput Load(BinaryReader reader)
    {
        string column = reader.ReadString();
        var geometry = PatchGeometry.Read(reader);
        var (height, width, channels, patch, _) = geometry;
        double mean = reader.ReadDouble(), std = reader.ReadDouble();
        if (!geometry.IsValid || (long)height * width * channels > 1 << 28)
            throw new InvalidDataException($"The DynMoE image model records an invalid geometry ({height}×{width}×{channels}, patch {patch}); the file is damaged.");
        return new ImageSequenceInput(column, geometry, mean, std);
    }
}
