using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Sequence;

[assembly: LoadableClass(typeof(DynMoETokenizingTransformer), null, typeof(SignatureLoadModel),
    DynMoETokenizingTransformer.UserName, DynMoETokenizingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(DynMoETokenizingTransformer), null, typeof(SignatureLoadRowMapper),
    DynMoETokenizingTransformer.UserName, DynMoETokenizingTransformer.LoaderSignature)]

namespace Microsoft.ML.DynMoE;

/// <summary>
/// Turns the text column (or sentence pair) of a DynMoE text classifier into the token codes its encoder reads: an
/// Int64 vector of <c>MaximumSequenceLength</c> codes, the tokens first and 0 (padding) after them. The codes are the
/// model's own: ids of the vocabulary fitted on the training data for a Transformer from scratch; for a pretrained
/// encoder, <c>1 + wordPieceId + tokenType × vocabularySize</c> (<c>[CLS] a [SEP] b [SEP]</c>, types 0 and 1).
/// The classifier returned by <see cref="DynMoEEncoderTransformer.WithTokenInput"/> scores from this column and exports
/// to ONNX; this transformer itself runs in .NET (no ONNX operator tokenizes exactly as the model does).
/// Create it with <c>mlContext.Transforms.Text.TokenizeForDynMoE</c>.
/// </summary>
public sealed class DynMoETokenizingTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "DynMoETokenizeTrans";
    internal const string UserName = "DynMoE text tokenizer";
    private const string InputStreamName = "DynMoETokenizer.bin";

    internal DynMoETokenizingTransformer(IHostEnvironment env, SequenceInput input, string outputColumnName)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(DynMoETokenizingTransformer)))
    {
        Input = input;
        OutputColumnName = outputColumnName;
    }

    /// <summary>The token-code column this transformer adds.</summary>
    public string OutputColumnName { get; }

    /// <summary>The text columns it reads (the classifier's sentence columns).</summary>
    public IReadOnlyList<string> InputColumnNames => Input.ColumnNames;

    /// <summary>Codes per row: the classifier's maximum sequence length.</summary>
    public int MaximumSequenceLength => Input.MaximumWidth;

    internal SequenceInput Input { get; }

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "DMOETOKT", verWrittenCur: 0x00010001, verReadableCur: 0x00010001, verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature, loaderAssemblyName: typeof(DynMoETokenizingTransformer).Assembly.FullName);

    private static DynMoETokenizingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => ModelDecoding.Load(env, ctx, GetVersionInfo(), "tokenizer", () =>
        {
            // *** Binary format ***
            // string: output column; the tokenizer (the classifier's text input, vocabulary included) in its own stream.
            string output = ctx.Reader.ReadString();
            SequenceInput? input = null;
            if (!ctx.TryLoadBinaryStream(InputStreamName, r => input = SequenceInput.Load(r)))
                throw ModelDecoding.Damaged($"The DynMoE tokenizer is missing its '{InputStreamName}' stream.");
            if (!input!.HasTokenIds || input is TokenColumnSequenceInput)
                throw ModelDecoding.Damaged("The DynMoE tokenizer holds an input that is not a text tokenizer.");
            return new DynMoETokenizingTransformer(env, input, output);
        });

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    /// <inheritdoc />
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ModelDecoding.BeginSave(Host, ctx, GetVersionInfo());
        ctx.Writer.Write(OutputColumnName);
        ctx.SaveBinaryStream(InputStreamName, Input.Save);
    }

    /// <inheritdoc />
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    internal VectorDataViewType OutputType => new(NumberDataViewType.Int64, MaximumSequenceLength);

    private sealed class Mapper : MapperBase
    {
        private readonly DynMoETokenizingTransformer _parent;
        private readonly int[] _inputColumns;

        public Mapper(DynMoETokenizingTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _parent = parent;
            parent.Input.CheckSchema(SchemaShape.Create(inputSchema), "input");
            _inputColumns = parent.Input.ColumnNames.Select(n => inputSchema[n].Index).ToArray();
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => new[] { new DataViewSchema.DetachedColumn(_parent.OutputColumnName, _parent.OutputType) };

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            var reader = _parent.Input.CreateReader(input);
            var buffer = new float[_parent.MaximumSequenceLength];
            ValueGetter<VBuffer<long>> getter = (ref VBuffer<long> value) =>
            {
                Array.Clear(buffer);
                int length = reader(buffer);
                var editor = VBufferEditor.Create(ref value, buffer.Length);
                for (int i = 0; i < buffer.Length; i++)
                    editor.Values[i] = i < length ? (long)buffer[i] : 0;
                value = editor.Commit();
            };
            return getter;
        }

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
            => column => activeOutput(0) && _inputColumns.Contains(column);

        protected override void SaveModel(ModelSaveContext ctx) => _parent.SaveModel(ctx);
    }
}
