using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Images;
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
    private const int TextKind = 1;
    private const int ImageKind = 2;

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

    public void Save(BinaryWriter writer)
    {
        writer.Write(this is TextSequenceInput ? TextKind : ImageKind);
        SaveCore(writer);
    }

    private protected abstract void SaveCore(BinaryWriter writer);

    public static SequenceInput Load(BinaryReader reader)
    {
        int kind = reader.ReadInt32();
        return kind switch
        {
            TextKind => TextSequenceInput.Load(reader),
            ImageKind => ImageSequenceInput.Load(reader),
            _ => throw new InvalidDataException($"The DynMoE encoder model has an unknown input kind {kind}; the file is damaged or from a newer version."),
        };
    }

    private protected static string Describe(SchemaShape.Column column)
    {
        string item = column.IsKey ? $"Key<{column.ItemType}>" : column.ItemType?.ToString() ?? "?";
        return column.Kind switch
        {
            SchemaShape.Column.VectorKind.Vector => $"a known-size vector of {item}",
            SchemaShape.Column.VectorKind.VariableVector => $"a variable-size vector of {item}",
            _ => $"a scalar of {item}",
        };
    }
}
