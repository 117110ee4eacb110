using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>The managed form of an <see cref="InputEmbedding"/>: writes one input's token vectors as rows of a span.</summary>
internal abstract class CompiledInputEmbedding
{
    private protected const int TokenKind = 1;
    private protected const int PatchKind = 2;

    public abstract int ModelDimension { get; }

    /// <summary>Most tokens one input yields.</summary>
    public abstract int MaximumTokens { get; }

    /// <summary>Width of one raw input row (0 when it varies, as token ids do).</summary>
    public abstract int InputWidth { get; }

    /// <summary>Embeds one raw input row into <paramref name="tokens"/> (<c>[S, d]</c> row-major) and returns S.</summary>
    public abstract int Embed(ReadOnlySpan<float> input, Span<float> tokens);

    public static CompiledInputEmbedding FromModule(InputEmbedding embedding) => embedding switch
    {
        TokenEmbedding token => CompiledTokenEmbedding.FromModule(token),
        PatchEmbedding patch => CompiledPatchEmbedding.FromModule(patch),
        _ => throw new NotSupportedException($"No managed scorer for the input embedding {embedding.GetType().Name}."),
    };

    public void Save(BinaryWriter writer)
    {
        writer.Write(this is CompiledTokenEmbedding ? TokenKind : PatchKind);
        SaveCore(writer);
    }

    private protected abstract void SaveCore(BinaryWriter writer);

    public static CompiledInputEmbedding Load(BinaryReader reader)
    {
        int kind = reader.ReadInt32();
        return kind switch
        {
            TokenKind => CompiledTokenEmbedding.Load(reader),
            PatchKind => CompiledPatchEmbedding.Load(reader),
            _ => throw new InvalidDataException($"The DynMoE encoder's input embedding has unknown kind {kind}; the model file is damaged or from a newer version."),
        };
    }
}
