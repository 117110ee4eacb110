namespace Microsoft.ML.DynMoE;

/// <summary>
/// The estimator of <see cref="DynMoETokenizingTransformer"/>: nothing to fit, as the tokenizer (and, for a model
/// trained from scratch, its vocabulary) comes from the trained classifier. Create it with
/// <c>mlContext.Transforms.Text.TokenizeForDynMoE(classifier)</c>.
/// </summary>
public sealed class DynMoETokenizingEstimator : TrivialEstimator<DynMoETokenizingTransformer>
{
    /// <summary>The token-code column's default name.</summary>
    public const string DefaultColumnName = "Tokens";

    internal DynMoETokenizingEstimator(IHostEnvironment env, DynMoETokenizingTransformer transformer)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(DynMoETokenizingEstimator)), transformer)
    {
    }

    /// <inheritdoc />
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        Host.CheckValue(inputSchema, nameof(inputSchema));
        Transformer.Input.CheckSchema(inputSchema, "input");
        var columns = inputSchema.ToDictionary(c => c.Name);
        columns[Transformer.OutputColumnName] = new SchemaShape.Column(Transformer.OutputColumnName, SchemaShape.Column.VectorKind.Vector,
            NumberDataViewType.Int64, isKey: false);
        return new SchemaShape(columns.Values);
    }
}
