using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Layers;
using Microsoft.ML.DynMoE.Training;
using static TorchSharp.torch;

namespace Microsoft.ML.DynMoE.Sequence;

/// <summary>
/// A text model's input read as token codes from one column (Int64 vector of the model's maximum length, 0 = padding
/// after the last token) instead of through its tokenizer: the codes are what the wrapped text input's reader writes
/// (compact ids from scratch; <c>1 + id + type · V</c> for a pretrained vocabulary), so scoring is the same. This is
/// the input of a text model exported to ONNX, whose graph cannot tokenize.
/// </summary>
internal sealed class TokenColumnSequenceInput : SequenceInput
{
    public TokenColumnSequenceInput(string columnName, SequenceInput text)
    {
        if (text is TokenColumnSequenceInput)
            throw new ArgumentException("The text input already reads token codes.", nameof(text));
        ColumnName = columnName;
        Text = text;
    }

    /// <summary>The token-code column.</summary>
    public string ColumnName { get; }

    /// <summary>The tokenizer whose codes the column holds (saved with the model, so the pair can be split again).</summary>
    public SequenceInput Text { get; }

    public override IReadOnlyList<string> ColumnNames => new[] { ColumnName };

    public override int MaximumWidth => Text.MaximumWidth;

    public override bool HasTokenIds => true;

    public override (int Rows, int Columns) PositionGrid => Text.PositionGrid;

    private protected override int Kind => TokenColumnKind;

    public override void CheckSchema(SchemaShape schema, string dataName)
    {
        if (!schema.TryFindColumn(ColumnName, out var column))
            throw new ArgumentOutOfRangeException(nameof(ColumnName),
                $"Token column '{ColumnName}' was not found in the {dataName} data. Add it with mlContext.Transforms.Text.TokenizeForDynMoE.");
        if (column.Kind != SchemaShape.Column.VectorKind.Vector || column.ItemType != NumberDataViewType.Int64)
            throw new ArgumentOutOfRangeException(nameof(ColumnName),
                $"Token column '{ColumnName}' must be a vector of Int64 of {MaximumWidth} codes, but it is {ColumnChecks.Describe(column)}.");
    }

    public override SequenceRowReader CreateReader(DataViewRow row)
    {
        var column = row.Schema[ColumnName];
        if (column.Type is not VectorDataViewType { Size: var size } || size != MaximumWidth)
            throw new ArgumentOutOfRangeException(nameof(row), $"Token column '{ColumnName}' must hold {MaximumWidth} codes, but it is {column.Type}.");
        var getter = row.GetGetter<VBuffer<long>>(column);
        VBuffer<long> codes = default;
        return destination =>
        {
            getter(ref codes);
            int count = 0;
            // The tokenizer pads after the last token; the scorer reads up to the first padding code, as from text.
            foreach (long code in codes.DenseValues())
            {
                if (code == 0 || count == destination.Length)
                    break;
                destination[count++] = code;
            }
            return count;
        };
    }

    public override InputEmbedding CreateEmbedding(int modelDimension, Generator generator) => Text.CreateEmbedding(modelDimension, generator);

    public override string? DescribeToken(int value) => Text.DescribeToken(value);

    public override void CheckEmbedding(CompiledInputEmbedding embedding) => Text.CheckEmbedding(embedding);

    private protected override void SaveCore(BinaryWriter writer)
    {
        writer.Write(ColumnName);
        Text.Save(writer);
    }

    public static new TokenColumnSequenceInput Load(BinaryReader reader)
    {
        string column = reader.ReadString();
        var text = SequenceInput.Load(reader);
        if (text is TokenColumnSequenceInput or Images.ImageSequenceInput)
            throw new InvalidDataException("The DynMoE model's token-code input wraps an input that is not a tokenizer; the file is damaged.");
        return new TokenColumnSequenceInput(column, text);
    }
}
