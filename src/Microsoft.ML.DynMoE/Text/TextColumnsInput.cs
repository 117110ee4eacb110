using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.DynMoE.Training;

namespace Microsoft.ML.DynMoE.Text;

/// <summary>
/// What the text inputs share, whichever tokenizer they use: one text column or a sentence pair, at most
/// <see cref="MaximumLength"/> tokens a row, the schema check, reading a row's texts, and the saved column header.
/// </summary>
internal abstract class TextColumnsInput(string sentence1, string? sentence2, int maximumLength) : SequenceInput
{
    public string Sentence1 { get; } = sentence1;

    public string? Sentence2 { get; } = sentence2;

    public int MaximumLength { get; } = maximumLength;

    public override IReadOnlyList<string> ColumnNames => Sentence2 is null ? new[] { Sentence1 } : new[] { Sentence1, Sentence2 };

    public override int MaximumWidth => MaximumLength;

    public override bool HasTokenIds => true;

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

    /// <summary>The text and, for a sentence pair, the second text of the row's current position.</summary>
    private protected Func<(string First, string? Second)> CreateTextGetter(DataViewRow row)
    {
        var first = row.GetGetter<ReadOnlyMemory<char>>(row.Schema[Sentence1]);
        var second = Sentence2 is null ? null : row.GetGetter<ReadOnlyMemory<char>>(row.Schema[Sentence2]);
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

    /// <summary>Writes the columns and the maximum length, the header every text input's saved form starts with.</summary>
    private protected void SaveColumns(BinaryWriter writer)
    {
        writer.Write(Sentence1);
        writer.Write(Sentence2 is not null);
        if (Sentence2 is not null)
            writer.Write(Sentence2);
        writer.Write(MaximumLength);
    }

    /// <summary>Reads what <see cref="SaveColumns"/> wrote; the caller checks the maximum length against its own bounds.</summary>
    private protected static (string Sentence1, string? Sentence2, int MaximumLength) LoadColumns(BinaryReader reader)
    {
        string sentence1 = reader.ReadString();
        string? sentence2 = reader.ReadBoolean() ? reader.ReadString() : null;
        return (sentence1, sentence2, reader.ReadInt32());
    }
}
