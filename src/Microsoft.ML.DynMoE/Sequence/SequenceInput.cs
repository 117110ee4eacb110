using Microsoft.ML.DynMoE.Images;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Text;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Sequence;

/// <summary>Reads one row's input columns into the encoder's float input (token ids or pixels) and returns its length.</summary>
internal delegate int SequenceRowReader(Span<float> destination);

/// <summary>
/// How an encoder model's input columns become the float row its <see cref="InputEmbedding"/> reads: text through the
/// tokenizer and compact vocabulary, images as their pixel vector. Fitted on the training data, saved in the model,
/// and used unchanged for scoring, so training and scoring share one featurization.
/// </summary>
internal abstract class SequenceInput
{
    // The number a saved model records for each input kind; Load is the one place that maps it back.
    private protected const int TextKind = 1;
    private protected const int ImageKind = 2;
    private protected const int PretrainedTextKind = 3;
    private protected const int TokenColumnKind = 4;
    private protected const int NormalizedTextKind = 5; // text whose tokenizer normalises first; TextKind is the older, as-written one

    /// <summary>The number a saved model records for this input kind.</summary>
    private protected abstract int Kind { get; }

    /// <summary>The input columns, for schema checks and column activation.</summary>
    public abstract IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Longest row the reader writes.</summary>
    public abstract int MaximumWidth { get; }

    /// <summary>Throws, naming the column and the fix, when <paramref name="schema"/> cannot feed this input.</summary>
    public abstract void CheckSchema(SchemaShape schema, string dataName);

    public abstract SequenceRowReader CreateReader(DataViewRow row);

    /// <summary>The TorchSharp embedding for this input, initialised from <paramref name="generator"/>.</summary>
    public abstract InputEmbedding CreateEmbedding(int modelDimension, Generator generator);

    /// <summary>Human-readable token for routing reports, or null when tokens are positions (images).</summary>
    public virtual string? DescribeToken(int value) => null;

    /// <summary>Whether the row's values are token ids, so routing reports count them per vocabulary token.</summary>
    public virtual bool HasTokenIds => false;

    /// <summary>The grid the token positions form in routing reports: one row of tokens, or the image's patches.</summary>
    public virtual (int Rows, int Columns) PositionGrid => (1, MaximumWidth);

    /// <summary>Throws <see cref="InvalidDataException"/> when a loaded encoder's input embedding cannot read this input (a damaged file).</summary>
    public abstract void CheckEmbedding(CompiledInputEmbedding embedding);

    public void Save(BinaryWriter writer)
    {
        writer.Write(Kind);
        SaveCore(writer);
    }

    private protected abstract void SaveCore(BinaryWriter writer);

    public static SequenceInput Load(BinaryReader reader)
    {
        int kind = reader.ReadInt32();
        return kind switch
        {
            TextKind => TextSequenceInput.Load(reader, normalized: false),
            NormalizedTextKind => TextSequenceInput.Load(reader, normalized: true),
            ImageKind => ImageSequenceInput.Load(reader),
            PretrainedTextKind => Pretrained.BertSequenceInput.Load(reader),
            TokenColumnKind => TokenColumnSequenceInput.Load(reader),
            _ => throw new InvalidDataException($"The DynMoE encoder model has an unknown input kind {kind}; the file is damaged or from a newer version."),
        };
    }
}
