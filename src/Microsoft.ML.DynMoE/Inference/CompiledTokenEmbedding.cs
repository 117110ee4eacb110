using Microsoft.ML.DynMoE.Layers;

namespace Microsoft.ML.DynMoE.Inference;

/// <summary>Token-id lookup: input values are ids (0 = padding, read up to the first padding id).</summary>
internal sealed class CompiledTokenEmbedding : CompiledInputEmbedding
{
    private readonly float[] _table; // [V, d]
    private readonly int _modelDimension;
    private readonly int _maximumTokens;

    private CompiledTokenEmbedding(float[] table, int modelDimension, int maximumTokens)
    {
        _table = table;
        _modelDimension = modelDimension;
        _maximumTokens = maximumTokens;
    }

    public override int ModelDimension => _modelDimension;

    public override int MaximumTokens => _maximumTokens;

    public override int InputWidth => 0;

    public int VocabularySize => _table.Length / _modelDimension;

    // Read by the ONNX export (Onnx/DynMoETextOnnxEmitter).
    internal ReadOnlySpan<float> Table => _table;

    public static CompiledTokenEmbedding FromModule(TokenEmbedding embedding)
        => new(CompiledMoEMlp.ToArray(embedding.Table), embedding.ModelDimension, embedding.MaximumTokens);

    public override int Embed(ReadOnlySpan<float> input, Span<float> tokens)
    {
        int d = _modelDimension, count = 0;
        int vocabulary = VocabularySize;
        for (int i = 0; i < input.Length && count < _maximumTokens; i++)
        {
            int id = (int)input[i];
            if (id == TokenEmbedding.PaddingId)
                break;
            if ((uint)id >= (uint)vocabulary)
                throw new ArgumentOutOfRangeException(nameof(input), id, $"Token id {id} is outside the model's vocabulary of {vocabulary}.");
            _table.AsSpan(id * d, d).CopyTo(tokens.Slice(count * d, d));
            count++;
        }

        return count;
    }

    private protected override void SaveCore(BinaryWriter writer)
    {
        writer.Write(_modelDimension);
        writer.Write(_maximumTokens);
        CompiledMoEMlp.WriteArray(writer, _table);
    }

    public static new CompiledTokenEmbedding Load(BinaryReader reader)
    {
        int d = reader.ReadInt32(), maximum = reader.ReadInt32();
        if (d < 1 || maximum < 1 || d > ModelDecoding.MaximumDimension || maximum > 1 << 16)
            throw new InvalidDataException($"The DynMoE token embedding records width {d} and {maximum} positions; both must be positive.");
        var table = ModelDecoding.ReadArray(reader, "token embedding table");
        if (table.Length % d != 0 || table.Length / d < 2)
            throw new InvalidDataException($"The DynMoE token embedding table has {table.Length} values, not a whole number (≥ 2) of rows of width {d}.");
        return new CompiledTokenEmbedding(table, d, maximum);
    }
}
