using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Patch projection of one image: standardise pixels, cut <c>P × P</c> patches (channel, row, column order inside a patch), project.</summary>
internal sealed class CompiledPatchEmbedding : CompiledInputEmbedding
{
    private readonly int _height, _width, _channels, _patchSize, _modelDimension;
    private readonly bool _interleaved;
    private readonly float _pixelMean, _pixelScale;
    private readonly float[] _weight; // [d, C·P·P]
    private readonly float[] _bias;   // [d]

    private CompiledPatchEmbedding(int height, int width, int channels, int patchSize, bool interleaved, int modelDimension,
        float pixelMean, float pixelScale, float[] weight, float[] bias)
    {
        _height = height;
        _width = width;
        _channels = channels;
        _patchSize = patchSize;
        _interleaved = interleaved;
        _modelDimension = modelDimension;
        _pixelMean = pixelMean;
        _pixelScale = pixelScale;
        _weight = weight;
        _bias = bias;
    }

    public override int ModelDimension => _modelDimension;

    public override int MaximumTokens => _height / _patchSize * (_width / _patchSize);

    public override int InputWidth => _height * _width * _channels;

    public int PatchColumns => _width / _patchSize;

    // Read by the ONNX export.
    internal (int Height, int Width, int Channels, int PatchSize, bool Interleaved) Geometry => (_height, _width, _channels, _patchSize, _interleaved);
    internal float PixelMean => _pixelMean;
    internal float PixelScale => _pixelScale;
    internal ReadOnlySpan<float> Weight => _weight;
    internal ReadOnlySpan<float> Bias => _bias;

    public static CompiledPatchEmbedding FromModule(PatchEmbedding embedding)
        => new(embedding.Height, embedding.Width, embedding.Channels, embedding.PatchSize, embedding.InterleavedColors, embedding.ModelDimension,
            CompiledMoEMlp.ToArray(embedding.PixelMean)[0], CompiledMoEMlp.ToArray(embedding.PixelScale)[0],
            CompiledMoEMlp.ToArray(embedding.Projection.weight!), CompiledMoEMlp.ToArray(embedding.Projection.bias!));

    public override int Embed(ReadOnlySpan<float> input, Span<float> tokens)
    {
        int p = _patchSize, c = _channels, d = _modelDimension, patchWidth = c * p * p;
        Span<float> patch = patchWidth <= 1024 ? stackalloc float[patchWidth] : new float[patchWidth];
        int index = 0;
        for (int pr = 0; pr < _height / p; pr++)
        {
            for (int pc = 0; pc < _width / p; pc++, index++)
            {
                int k = 0;
                for (int ch = 0; ch < c; ch++)
                {
                    for (int i = 0; i < p; i++)
                    {
                        int row = pr * p + i;
                        for (int j = 0; j < p; j++)
                        {
                            int column = pc * p + j;
                            int source = _interleaved ? (row * _width + column) * c + ch : (ch * _height + row) * _width + column;
                            patch[k++] = (input[source] - _pixelMean) * _pixelScale;
                        }
                    }
                }

                DenseKernels.Linear(_weight, _bias, patch, tokens.Slice(index * d, d));
            }
        }

        return index;
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        writer.Write(_height);
        writer.Write(_width);
        writer.Write(_channels);
        writer.Write(_patchSize);
        writer.Write(_interleaved);
        writer.Write(_modelDimension);
        writer.Write(_pixelMean);
        writer.Write(_pixelScale);
        CompiledMoEMlp.WriteArray(writer, _weight);
        CompiledMoEMlp.WriteArray(writer, _bias);
    }

    public static new CompiledPatchEmbedding Load(BinaryReader reader)
    {
        int height = reader.ReadInt32(), width = reader.ReadInt32(), channels = reader.ReadInt32(), patch = reader.ReadInt32();
        bool interleaved = reader.ReadBoolean();
        int d = reader.ReadInt32();
        float mean = reader.ReadSingle(), scale = reader.ReadSingle();
        if (height < 1 || width < 1 || channels < 1 || patch < 1 || d < 1 || height % patch != 0 || width % patch != 0)
            throw new InvalidDataException($"The DynMoE patch embedding records an invalid geometry ({height}×{width}×{channels}, patch {patch}, width {d}).");
        if (!float.IsFinite(mean) || !float.IsFinite(scale) || d > ModelDecoding.MaximumDimension)
            throw ModelDecoding.Damaged($"The DynMoE patch embedding records pixel mean {mean}, scale {scale} and width {d}.");
        var weight = ModelDecoding.ReadArray(reader, "patch projection weights", ModelDecoding.Size("patch projection", d, channels, patch, patch));
        var bias = ModelDecoding.ReadArray(reader, "patch projection bias", d);
        if (weight.Length != (long)d * channels * patch * patch || bias.Length != d)
            throw new InvalidDataException($"The DynMoE patch projection has {weight.Length} weights and {bias.Length} biases; expected {d * channels * patch * patch} and {d}.");
        return new CompiledPatchEmbedding(height, width, channels, patch, interleaved, d, mean, scale, weight, bias);
    }
}
