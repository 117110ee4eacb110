using System.Runtime.CompilerServices;
using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Model.OnnxConverter;

[assembly: LoadableClass(typeof(DynMoEEncoderTransformer), null, typeof(SignatureLoadModel),
    DynMoEEncoderTransformer.UserName, DynMoEEncoderTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(DynMoEEncoderTransformer), null, typeof(SignatureLoadRowMapper),
    DynMoEEncoderTransformer.UserName, DynMoEEncoderTransformer.LoaderSignature)]

namespace Microsoft.ML.DynMoE;

/// <summary>
/// A trained DynMoE text or image classifier in an ML.NET pipeline. Reads the input columns it was trained on (or, after
/// <see cref="WithTokenInput"/>, a text model's token codes) and adds
/// the columns ML.NET's evaluators expect: binary — <c>Score</c> (logit), <c>Probability</c>, <c>PredictedLabel</c>
/// (Boolean); multiclass — <c>Score</c> (class probabilities, slot names = class names) and <c>PredictedLabel</c> (a key
/// with the training label's values). Scoring runs on managed arrays; one model serves many threads.
/// </summary>
public sealed class DynMoEEncoderTransformer : RowToRowTransformerBase, ITransformer
{
    internal const string LoaderSignature = "DynMoEEncoderTrans";
    internal const string UserName = "DynMoE Transformer-encoder classifier";
    private const string LegacyModelStreamName = "DynMoEEncoder.bin";

    internal DynMoEEncoderTransformer(IHostEnvironment env, DynMoEEncoderModelParameters model, string scoreColumnName = DefaultColumnNames.Score,
        string probabilityColumnName = DefaultColumnNames.Probability, string predictedLabelColumnName = DefaultColumnNames.PredictedLabel)
        : base(Contracts.CheckRef(env, nameof(env)).Register(nameof(DynMoEEncoderTransformer)))
    {
        Model = model;
        ScoreColumnName = scoreColumnName;
        ProbabilityColumnName = probabilityColumnName;
        PredictedLabelColumnName = predictedLabelColumnName;
    }

    /// <summary>The trained model: routing, routing measurement, input columns.</summary>
    public DynMoEEncoderModelParameters Model { get; }

    /// <summary>Name of the score column.</summary>
    public string ScoreColumnName { get; }

    /// <summary>Name of the probability column (binary classification only).</summary>
    public string ProbabilityColumnName { get; }

    /// <summary>Name of the predicted label column.</summary>
    public string PredictedLabelColumnName { get; }

    /// <summary>
    /// This text classifier reading the token codes in <paramref name="tokenColumnName"/> (made from the text by
    /// <c>mlContext.Transforms.Text.TokenizeForDynMoE(this)</c>) instead of the text columns: same weights, same scores,
    /// same output columns. Unlike the text-reading classifier it exports to ONNX with ML.NET's <c>ConvertToOnnx</c>,
    /// because the graph starts after the tokenizer.
    /// </summary>
    /// <param name="tokenColumnName">The token-code column: Int64 vector of <c>MaximumSequenceLength</c> codes.</param>
    /// <exception cref="InvalidOperationException">The model is not a text classifier, or already reads token codes.</exception>
    public DynMoEEncoderTransformer WithTokenInput(string tokenColumnName = DynMoETokenizingEstimator.DefaultColumnName)
    {
        Host.CheckNonEmpty(tokenColumnName, nameof(tokenColumnName));
        if (Model.Input is TokenColumnSequenceInput reading)
            throw new InvalidOperationException($"This DynMoE text classifier already reads token codes from column '{reading.ColumnName}'; call WithTokenInput on the classifier that reads text.");
        if (!Model.Input.HasTokenIds)
            throw new InvalidOperationException("This DynMoE classifier reads images; only a text classifier has token codes to read.");
        return new DynMoEEncoderTransformer(Host, Model.WithInput(new TokenColumnSequenceInput(tokenColumnName, Model.Input)),
            ScoreColumnName, ProbabilityColumnName, PredictedLabelColumnName);
    }

    // 0x00010002: the model is a sub-model with its own version header; 0x00010001 kept it in a binary stream.
    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "DMOEENCT", verWrittenCur: 0x00010002, verReadableCur: 0x00010002, verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature, loaderAssemblyName: typeof(DynMoEEncoderTransformer).Assembly.FullName);

    private const string ModelName = "Model";

    private static DynMoEEncoderTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
        => ModelDecoding.Load(env, ctx, GetVersionInfo(), "encoder transformer", () => LoadCore(env, ctx));

    private static DynMoEEncoderTransformer LoadCore(IHostEnvironment env, ModelLoadContext ctx)
    {
        // *** Binary format ***
        // string: score column; string: probability column; string: predicted label column; the model as a sub-model.
        string score = ctx.Reader.ReadString(), probability = ctx.Reader.ReadString(), predicted = ctx.Reader.ReadString();
        DynMoEEncoderModelParameters? model = null;
        if (ctx.Header.ModelVerWritten >= 0x00010002)
            ctx.LoadModel<DynMoEEncoderModelParameters, SignatureLoadModel>(env, out model, ModelName);
        else if (!ctx.TryLoadBinaryStream(LegacyModelStreamName, r => model = DynMoEEncoderModelParameters.Load(env, r)))
            throw new InvalidDataException($"The DynMoE encoder model is missing its '{LegacyModelStreamName}' stream.");
        return new DynMoEEncoderTransformer(env, model!, score, probability, predicted);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema)
        => Create(env, ctx).MakeRowMapper(inputSchema);

    /// <inheritdoc />
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ModelDecoding.BeginSave(Host, ctx, GetVersionInfo());
        ctx.Writer.Write(ScoreColumnName);
        ctx.Writer.Write(ProbabilityColumnName);
        ctx.Writer.Write(PredictedLabelColumnName);
        ctx.SaveModel(Model, ModelName);
    }

    /// <inheritdoc />
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    /// <summary>
    /// Adds the score columns to <paramref name="input"/>; a cursor in the data's order scores its rows in blocks, reading
    /// the input with a second cursor a block ahead, so the input must give the same rows in the same order to two cursors
    /// (as ML.NET's loaders and transforms do; a one-pass <c>IEnumerable</c> behind <c>LoadFromEnumerable</c> does not).
    /// </summary>
    public new IDataView Transform(IDataView input) => new DynMoEEncoderBatchedView((RowToRowMapperTransform)base.Transform(input), Model);

    IDataView ITransformer.Transform(IDataView input) => Transform(input);

    /// <summary>Adds the score columns; one forward per row, shared by the row's output getters.</summary>
    private sealed class Mapper : MapperBase, ISaveAsOnnx
    {
        private readonly DynMoEEncoderTransformer _parent;
        private readonly int[] _inputColumns;
        private readonly ConditionalWeakTable<DataViewRow, RowState> _states = new();

        public Mapper(DynMoEEncoderTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _parent = parent;
            parent.Model.Input.CheckSchema(SchemaShape.Create(inputSchema), "input");
            _inputColumns = parent.Model.Input.ColumnNames.Select(n => inputSchema[n].Index).ToArray();
        }

        private DynMoEEncoderModelParameters Model => _parent.Model;

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
            => Model.Task.OutputColumns(Model.Task.OutputColumnCount == 3
                ? new[] { _parent.ScoreColumnName, _parent.ProbabilityColumnName, _parent.PredictedLabelColumnName }
                : new[] { _parent.ScoreColumnName, _parent.PredictedLabelColumnName }, Model.ClassNames, Model.OutputCount);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            var state = _states.GetValue(input, row => new RowState(Model, row));
            return Model.Task.MakeGetter(iinfo, () => state.Logits(input));
        }

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            bool any = Enumerable.Range(0, Model.Task.OutputColumnCount).Any(activeOutput);
            return column => any && _inputColumns.Contains(column);
        }

        protected override void SaveModel(ModelSaveContext ctx) => _parent.SaveModel(ctx);

        // ML.NET's ConvertToOnnx: image models, and text models reading token codes, export (Onnx/DynMoEEncoderOnnxSaver).
        bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => Onnx.DynMoEEncoderOnnxSaver.CanSave(Model);

        void ISaveAsOnnx.SaveAsOnnx(OnnxContext ctx) => Onnx.DynMoEEncoderOnnxSaver.Save(ctx, Model, GetOutputColumnsCore());
    }

    /// <summary>One cursor row's featurized input and logits, recomputed when the row moves.</summary>
    private sealed class RowState
    {
        private readonly DynMoEEncoderModelParameters _model;
        private readonly SequenceRowReader _reader;
        private readonly float[] _input;
        private readonly float[] _logits;
        private readonly object _scratch;
        private long _position = -1;

        public RowState(DynMoEEncoderModelParameters model, DataViewRow row)
        {
            _model = model;
            _reader = model.Input.CreateReader(row);
            _input = new float[model.Input.MaximumWidth];
            _logits = new float[model.OutputCount];
            _scratch = model.Encoder.CreateScratch();
        }

        public float[] Logits(DataViewRow row)
        {
            if (_position != row.Position || row.Position < 0)
            {
                Array.Clear(_input);
                int length = _reader(_input);
                _model.Score(_input.AsSpan(0, length), _logits, _scratch);
                _position = row.Position;
            }

            return _logits;
        }
    }
}
