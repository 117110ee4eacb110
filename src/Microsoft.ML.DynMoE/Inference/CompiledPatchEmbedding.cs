using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Patch projection of one image: standardise pixels, cut <c>P × P</c> patches (channel, row, column order inside a patch), project.</summary>
internal sealed class CompiledPatchEmbedding : CompiledInputEmbedding
{
    private readonly int _modelDimension;
    private readonly float _pixelMean, _pixelScale;
    private readonly float[] _weight; // [d, C·P·P]
    private readonly float[] _bias;   // [d]

    private CompiledPatchEmbedding(PatchGeometry geometry, int modelDimension, float pixelMean, float pixelScale, float[] weight, float[] bias)
    {
        Geometry = geometry;
        _modelDimension = modelDimension;
        _pixelMean = pixelMean;
        _pixelScale = pixelScale;
        _weight = weight;
        _bias = bias;
    }

    public override int ModelDimension => _modelDimension;

    public PatchGeometry Geometry { get; }

    public override int MaximumTokens => Geometry.PatchRows * Geometry.PatchColumns;

    public override int InputWidth => Geometry.PixelCount;

    public int PatchColumns => Geometry.PatchColumns;

    // Read by the ONNX export.
    internal float PixelMean => _pixelMean;
    internal float PixelScale => _pixelScale;
    internal ReadOnlySpan<float> Weight => _weight;
    internal ReadOnlySpan<float> Bias => _bias;

    public static CompiledPatchEmbedding FromModule(PatchEmbedding embedding)
        => new(new PatchGeometry(embedding.Height, embedding.Width, embedding.Channels, embedding.PatchSize, embedding.InterleavedColors), embedding.ModelDimension,
            CompiledMoEMlp.ToArray(embedding.PixelMean)[0], CompiledMoEMlp.ToArray(embedding.PixelScale)[0],
            CompiledMoEMlp.ToArray(embedding.Projection.weight!), CompiledMoEMlp.ToArray(embedding.Projection.bias!));

    public override int Embed(ReadOnlySpan<float> input, Span<float> tokens)
    {
        var geometry = Geometry; // copied once for the loops below
        int p = geometry.PatchSize, c = geometry.Channels, d = _modelDimension, patchWidth = c * p * p;
        Span<float> patch = patchWidth <= 1024 ? stackalloc float[patchWidth] : new float[patchWidth];
        int index = 0;
        for (int pr = 0; pr < geometry.PatchRows; pr++)
        {
            for (int pc = 0; pc < geometry.PatchColumns; pc++, index++)
            {
                int k = 0;
                for (int ch = 0; ch < c; ch++)
                {
                    for (int i = 0; i < p; i++)
                    {
                        for (int j = 0; j < p; j++)
                            patch[k++] = (input[geometry.PixelIndex(pr * p + i, pc * p + j, ch)] - _pixelMean) * _pixelScale;
                    }
                }

                DenseKernels.Linear(_weight, _bias, patch, tokens.Slice(index * d, d));
            }
        }

        return index;
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        Geometry.Write(writer);
        writer.Write(_modelDimension);
        writer.Write(_pixelMean);
        writer.Write(_pixelScale);
        CompiledMoEMlp.WriteArray(writer, _weight);
        CompiledMoEMlp.WriteArray(writer, _bias);
    }

    public static new CompiledPatchEmbedding Load(BinaryReader reader)
    {
        var geometry = PatchGeometry.Read(reader);
        var (height, width, channels, patch, _) = geometry;
        int d = reader.ReadInt32();
        float mean = reader.ReadSingle(), scale = reader.ReadSingle();
        if (!geometry.IsValid || d < 1)
            throw new InvalidDataException($"The DynMoE patch embedding records an invalid geometry ({height}×{width}×{channels}, patch {patch}, width {d}).");
        if (!float.IsFinite(mean) || !float.IsFinite(scale) || d > ModelDecoding.MaximumDimension)
            throw ModelDecoding.Damaged($"The DynMoE patch embedding records pixel mean {mean}, scale {scale} and width {d}.");
        var weight = ModelDecoding.ReadArray(reader, "patch projection weights", ModelDecoding.Size("patch projection", d, channels, patch, patch));
        var bias = ModelDecoding.ReadArray(reader, "patch projection bias", d);
        if (weight.Length != (long)d * channels * patch * patch || bias.Length != d)
            throw new InvalidDataException($"The DynMoE patch projection has {weight.Length} weights and {bias.Length} biases; expected {d * channels * patch * patch} and {d}.");
        return new CompiledPatchEmbedding(geometry, d, mean, scale, weight, bias);
    }
}
