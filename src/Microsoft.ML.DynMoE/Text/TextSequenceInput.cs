using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Text;

/// <summary>One text column, or a sentence pair joined by the separator, as compact token ids (at most MaximumSequenceLength).</summary>
internal sealed class TextSequenceInput : SequenceInput
{
    public TextSequenceInput(string sentence1, string? sentence2, int maximumLength, TextTruncation truncation, TextVocabulary vocabulary)
    {
        Sentence1 = sentence1;
        Sentence2 = sentence2;
        MaximumLength = maximumLength;
        Truncation = truncation;
        Vocabulary = vocabulary;
    }

    public string Sentence1 { get; }

    public string? Sentence2 { get; }

    public int MaximumLength { get; }

    public TextTruncation Truncation { get; }

    public TextVocabulary Vocabulary { get; }

    public override IReadOnlyList<string> ColumnNames => Sentence2 is null ? new[] { Sentence1 } : new[] { Sentence1, Sentence2 };

    public override int MaximumWidth => MaximumLength;

    public override void CheckSchema(SchemaShape schema, string dataName) => CheckTextColumns(schema, dataName, Sentence1, Sentence2);

    public static void CheckTextColumns(SchemaShape schema, string dataName, string sentence1, string? sentence2)
    {
        foreach (var (name, option) in new[] { (sentence1, "Sentence1ColumnName"), (sentence2, "Sentence2ColumnName") })
        {
            if (name is null)
                continue;
            if (!schema.TryFindColumn(name, out var column))
                throw new ArgumentOutOfRangeException(option,
                    $"Text column '{name}' was not found in the {dataName} data. Set {option} to the column that holds the text.");
            if (column.Kind != SchemaShape.Column.VectorKind.Scalar || column.ItemType is not TextDataViewType)
                throw new ArgumentOutOfRangeException(option,
                    $"Text column '{name}' must be a scalar of Text, but it is {ColumnChecks.Describe(column)}. Load it as a string (TextLoader DataKind.String, or a string field in your input class).");
        }
    }

    public override SequenceRowReader CreateReader(DataViewRow row)
    {
        var texts = CreateTextGetter(row, Sentence1, Sentence2);
        return destination =>
        {
            var (first, second) = texts();
            return Vocabulary.Encode(first, second, destination[..MaximumLength], Truncation);
        };
    }

    /// <summary>The text and, for a sentence pair, the second text of the row's current position.</summary>
    public static Func<(string First, string? Second)> CreateTextGetter(DataViewRow row, string sentence1, string? sentence2)
    {
        var first = row.GetGetter<ReadOnlyMemory<char>>(row.Schema[sentence1]);
        var second = sentence2 is null ? null : row.GetGetter<ReadOnlyMemory<char>>(row.Schema[sentence2]);
        ReadOnlyMemory<char> a = default, b = default;
        return () =>
        {
            first(ref a);
            if (second is null)
                return (a.ToString(), null);
            second(ref b);
            return (a.ToString(), b.ToString());
        };
    }

    public override InputEmbedding CreateEmbedding(int modelDimension, Generator generator)
        => new TokenEmbedding("embedding", Vocabulary.Size, modelDimension, MaximumLength, generator);

    public override string? DescribeToken(int value) => Vocabulary.Describe(value);

    public override bool HasTokenIds => true;

    private protected override int Kind => TextKind;

    public override void CheckEmbedding(CompiledInputEmbedding embedding)
    {
        if (embedding is not CompiledTokenEmbedding tokens || tokens.VocabularySize != Vocabulary.Size || tokens.MaximumTokens < MaximumWidth)
            throw new InvalidDataException($"The DynMoE encoder's token table does not match the model's vocabulary of {Vocabulary.Size} ids and {MaximumWidth} tokens; the model file is damaged.");
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        writer.Write(Sentence1);
        writer.Write(Sentence2 is not null);
        if (Sentence2 is not null)
            writer.Write(Sentence2);
        writer.Write(MaximumLength);
        writer.Write((int)Truncation);
        Vocabulary.Save(writer);
    }

    public static new TextSequenceInput Load(BinaryReader reader)
    {
        string sentence1 = reader.ReadString();
        string? sentence2 = reader.ReadBoolean() ? reader.ReadString() : null;
        int maximum = reader.ReadInt32();
        var truncation = (TextTruncation)reader.ReadInt32();
        if (maximum < 1 || maximum > 1 << 16 || !Enum.IsDefined(truncation))
            throw new InvalidDataException($"The DynMoE text model records a maximum length of {maximum} and truncation {(int)truncation}; the file is damaged.");
        return new TextSequenceInput(sentence1, sentence2, maximum, truncation, TextVocabulary.Load(reader));
    }
}
