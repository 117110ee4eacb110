using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Trainers;

[assembly: LoadableClass(typeof(DynMoEEncoderModelParameters), null, typeof(SignatureLoadModel),
    "DynMoE encoder predictor", DynMoEEncoderModelParameters.LoaderSignature)]

namespace Microsoft.ML.DynMoE;

/// <summary>
/// A trained DynMoE text or image classifier: the fitted input featurization (vocabulary, or image geometry and pixel
/// scale), the Transformer encoder as managed arrays, and the routing measured during training. Saved inside its
/// <see cref="DynMoEEncoderTransformer"/> as an ML.NET model with its own version header. Scoring never calls
/// TorchSharp; it is thread-safe and needs no native library.
/// </summary>
public sealed class DynMoEEncoderModelParameters : ModelParametersBase<VBuffer<float>>, IDynMoEModelParameters
{
    internal const string LoaderSignature = "DynMoEEncoderPred";
    private const string EncoderStreamName = "DynMoEEncoder.bin";

    // The encoder kind a model file records (from version 0x00010002; older files hold a Transformer from scratch).
    private const int TransformerEncoderKind = 1;
    private const int PretrainedEncoderKind = 2;
    private const int FrozenPretrainedEncoderKind = 3;

    private readonly Parts _parts;

    internal DynMoEEncoderModelParameters(IHostEnvironment env, ClassificationTask task, SequenceInput input, ICompiledSequenceEncoder encoder, DynMoERoutingSummary routing, string[] classNames)
        : this(env, new Parts(task, input, encoder, routing, classNames))
    {
    }

    private DynMoEEncoderModelParameters(IHostEnvironment env, Parts parts)
        : base(env, LoaderSignature)
        => _parts = parts;

    private DynMoEEncoderModelParameters(IHostEnvironment env, ModelLoadContext ctx)
        : base(env, LoaderSignature, ctx)
    {
        // *** Binary format ***
        // the model in its own stream (see Save).
        Parts? parts = null;
        bool recordsEncoderKind = ctx.Header.ModelVerWritten >= 0x00010002;
        if (!ctx.TryLoadBinaryStream(EncoderStreamName, r => parts = ReadParts(r, recordsEncoderKind)))
            throw ModelDecoding.Damaged($"The DynMoE encoder model is missing its '{EncoderStreamName}' stream.");
        _parts = parts!;
    }

    private static VersionInfo GetVersionInfo() => new(
        // 0x00010002: the encoder kind (a Transformer from scratch or a fine-tuned pretrained encoder) precedes the encoder.
        modelSignature: "DMOEENCP", verWrittenCur: 0x00010002, verReadableCur: 0x00010002, verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature, loaderAssemblyName: typeof(DynMoEEncoderModelParameters).Assembly.FullName);

    internal static DynMoEEncoderModelParameters Create(IHostEnvironment env, ModelLoadContext ctx)
        => ModelDecoding.Load(env, ctx, GetVersionInfo(), "encoder model", () => new DynMoEEncoderModelParameters(env, ctx));

    /// <inheritdoc />
    protected override void SaveCore(ModelSaveContext ctx)
    {
        base.SaveCore(ctx);
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.SaveBinaryStream(EncoderStreamName, Save);
    }

    /// <inheritdoc />
    protected override PredictionKind PredictionKind => Task.PredictionKind;

    internal ClassificationTask Task => _parts.Task;

    internal SequenceInput Input => _parts.Input;

    /// <summary>The same model reading <paramref name="input"/> (the token-code column of its own tokenizer).</summary>
    internal DynMoEEncoderModelParameters WithInput(SequenceInput input) => new(Host, Task, input, Encoder, Routing, ClassNames.ToArray());

    internal ICompiledSequenceEncoder Encoder => _parts.Encoder;

    /// <summary>Routing of each MoE layer measured on the training data, with the expert-count history over training.</summary>
    public DynMoERoutingSummary Routing => _parts.Routing;

    /// <summary>Class names in key order (multiclass), or empty (binary).</summary>
    public IReadOnlyList<string> ClassNames => _parts.ClassNames;

    /// <summary>Number of outputs of the network: classes, or 1 for binary classification.</summary>
    public int OutputCount => Encoder.OutputDimension;

    /// <summary>Input columns the model reads.</summary>
    public IReadOnlyList<string> InputColumnNames => Input.ColumnNames;

    /// <summary>Encoder blocks.</summary>
    public int NumberOfLayers => Encoder.LayerCount;

    /// <summary>Blocks whose FFN is an MoE layer.</summary>
    public int NumberOfMoELayers => Encoder.MoELayerCount;

    /// <summary>
    /// Runs the encoder on one featurized row; <paramref name="output"/> receives the logits. Each caller (a cursor's row
    /// state, one routing pass) owns its <paramref name="scratch"/>, so the model holds no per-thread state to dispose.
    /// </summary>
    internal void Score(ReadOnlySpan<float> input, Span<float> output, object scratch, CompiledTransformerEncoder.RoutingTrace? trace = null)
        => Encoder.Forward(input, output, scratch, trace);

    /// <summary>
    /// Measures routing on <paramref name="data"/> (which must hold the model's input columns): overall, per label value
    /// (with <paramref name="labelColumnName"/>), per token position and, for text, per vocabulary token.
    /// </summary>
    public DynMoEEncoderRoutingReport ComputeRouting(IDataView data, string? labelColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        Input.CheckSchema(SchemaShape.Create(data.Schema), "routing");
        DataViewSchema.Column? label = null;
        if (labelColumnName is not null)
            label = data.Schema.GetColumnOrNull(labelColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(labelColumnName), $"Label column '{labelColumnName}' was not found. Pass an existing column or null.");

        var columns = Input.ColumnNames.Select(n => data.Schema[n]).ToList();
        if (label is DataViewSchema.Column l)
            columns.Add(l);
        using var cursor = data.GetRowCursor(columns);
        var reader = Input.CreateReader(cursor);
        var labelText = label is DataViewSchema.Column lc ? LabelText.CreateGetter(cursor, lc) : null;
        var row = new float[Input.MaximumWidth];
        var output = new float[Encoder.OutputDimension];
        var trace = new CompiledTransformerEncoder.RoutingTrace(Encoder);
        var scratch = Encoder.CreateScratch();
        var overall = new Tally(this);
        var byLabel = new SortedDictionary<string, Tally>(StringComparer.Ordinal);
        var tokens = new Dictionary<int, (long Count, double Sum)>();
        int offset = Encoder.UsesClassToken ? 1 : 0;
        while (cursor.MoveNext())
        {
            Array.Clear(row);
            int length = reader(row);
            trace.Clear();
            Score(row.AsSpan(0, length), output, scratch, trace);
            overall.Count(trace, offset);
            if (labelText is not null)
            {
                string key = labelText();
                if (!byLabel.TryGetValue(key, out var group))
                    byLabel[key] = group = new Tally(this);
                group.Count(trace, offset);
            }

            if (Input.HasTokenIds && Encoder.MoELayerCount > 0)
            {
                for (int t = offset; t < trace.States; t++)
                {
                    int id = (int)row[t - offset];
                    double mean = 0;
                    for (int m = 0; m < Encoder.MoELayerCount; m++)
                        mean += trace.Activated[m][t];
                    tokens.TryGetValue(id, out var entry);
                    tokens[id] = (entry.Count + 1, entry.Sum + mean / Encoder.MoELayerCount);
                }
            }
        }

        var tokenRouting = tokens.OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key)
            .Select(p => new DynMoETokenRouting(Input.DescribeToken(p.Key) ?? p.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Value.Count, p.Value.Sum / p.Value.Count))
            .ToArray();
        var (rows, columnsInGrid) = Input.PositionGrid;
        return new DynMoEEncoderRoutingReport(overall.ToSummary(Routing), byLabel.ToDictionary(p => p.Key, p => p.Value.ToSummary(Routing)),
            overall.ByPosition(), byLabel.ToDictionary(p => p.Key, p => p.Value.ByPosition()), tokenRouting, rows, columnsInGrid, Encoder.UsesClassToken);
    }

    /// <inheritdoc />
    /// <remarks>An encoder reads the columns it was trained on; <paramref name="featureColumnName"/> is not used.</remarks>
    DynMoERoutingReport IDynMoEModelParameters.ComputeRouting(IDataView data, string featureColumnName, string? labelColumnName)
        => ComputeRouting(data, labelColumnName);

    internal void Save(BinaryWriter writer)
    {
        writer.Write(Task.Id);
        Input.Save(writer);
        Routing.Write(writer);
        writer.Write(ClassNames.Count);
        foreach (string name in ClassNames)
            writer.Write(name);
        writer.Write(Encoder switch
        {
            CompiledBertClassifier => PretrainedEncoderKind,
            CompiledFrozenBertClassifier => FrozenPretrainedEncoderKind,
            _ => TransformerEncoderKind,
        });
        Encoder.Save(writer);
    }

    /// <summary>Reads a model <see cref="Save"/> wrote; <paramref name="recordsEncoderKind"/> is false for files older than 0x00010002.</summary>
    internal static DynMoEEncoderModelParameters Load(IHostEnvironment env, BinaryReader reader, bool recordsEncoderKind = false)
        => new(env, ReadParts(reader, recordsEncoderKind));

    private static Parts ReadParts(BinaryReader reader, bool recordsEncoderKind)
        => ModelDecoding.Decode("encoder model", () => ReadPartsCore(reader, recordsEncoderKind));

    private static Parts ReadPartsCore(BinaryReader reader, bool recordsEncoderKind)
    {
        var task = ClassificationTask.FromId(reader.ReadInt32());
        var input = SequenceInput.Load(reader);
        var featurization = input is TokenColumnSequenceInput tokenColumn ? tokenColumn.Text : input; // token codes in: the tokenizer's checks
        var routing = DynMoERoutingSummary.Read(reader);
        int classes = reader.ReadInt32();
        if (classes < 0 || classes > 1 << 20)
            throw new InvalidDataException($"The DynMoE encoder model records {classes} class names; the file is damaged.");
        var names = new string[classes];
        for (int i = 0; i < classes; i++)
            names[i] = reader.ReadString();
        int kind = recordsEncoderKind ? reader.ReadInt32() : TransformerEncoderKind;
        ICompiledSequenceEncoder encoder;
        if (kind == TransformerEncoderKind)
        {
            var transformer = CompiledTransformerEncoder.Load(reader);
            if (transformer.Embedding.MaximumTokens < 1)
                throw new InvalidDataException("The DynMoE encoder's input embedding does not match the model's input featurization.");
            featurization.CheckEmbedding(transformer.Embedding);
            encoder = transformer;
        }
        else if (kind is PretrainedEncoderKind or FrozenPretrainedEncoderKind)
        {
            CompiledPretrainedClassifier pretrained = kind == PretrainedEncoderKind ? CompiledBertClassifier.Load(reader) : CompiledFrozenBertClassifier.Load(reader);
            if (featurization is not Pretrained.BertSequenceInput tokens)
                throw new InvalidDataException("The DynMoE model pairs a pretrained encoder with an input that is not its tokenizer; the file is damaged.");
            tokens.CheckEncoder(pretrained.Encoder);
            encoder = (ICompiledSequenceEncoder)pretrained;
        }
        else
        {
            throw new InvalidDataException($"The DynMoE encoder model has an unknown encoder kind {kind}; the file is damaged or from a newer version.");
        }

        if (!task.OutputsMatch(encoder.OutputDimension, classes))
            throw new InvalidDataException($"The DynMoE encoder has {encoder.OutputDimension} outputs but the model records {classes} classes for {task.PredictionKind}.");
        routing.CheckMatches(Enumerable.Range(0, encoder.MoELayerCount).Select(i => encoder.GetMoELayer(i).SlotCount).ToArray());
        return new Parts(task, input, encoder, routing, names);
    }

    /// <summary>Routing counts over scored sequences: per MoE layer, activated experts per token and per position, and expert load.</summary>
    private sealed class Tally
    {
        private readonly ICompiledSequenceEncoder _encoder;
        private readonly long[] _tokens;
        private readonly long[] _activated;
        private readonly long[][] _load;
        private readonly long[][] _positionCount;
        private readonly long[][] _positionSum;

        public Tally(DynMoEEncoderModelParameters model)
        {
            _encoder = model.Encoder;
            int layers = _encoder.MoELayerCount, positions = _encoder.MaximumTokens;
            _tokens = new long[layers];
            _activated = new long[layers];
            _load = Enumerable.Range(0, layers).Select(i => new long[_encoder.GetMoELayer(i).SlotCount]).ToArray();
            _positionCount = Enumerable.Range(0, layers).Select(_ => new long[positions]).ToArray();
            _positionSum = Enumerable.Range(0, layers).Select(_ => new long[positions]).ToArray();
        }

        public long Sequences { get; private set; }

        public void Count(CompiledTransformerEncoder.RoutingTrace trace, int offset)
        {
            Sequences++;
            for (int m = 0; m < _tokens.Length; m++)
            {
                _tokens[m] += trace.States;
                for (int e = 0; e < _load[m].Length; e++)
                    _load[m][e] += trace.ExpertLoad[m][e];
                for (int t = 0; t < trace.States; t++)
                {
                    _activated[m] += trace.Activated[m][t];
                    if (t >= offset)
                    {
                        _positionCount[m][t - offset]++;
                        _positionSum[m][t - offset] += trace.Activated[m][t];
                    }
                }
            }
        }

        public DynMoERoutingSummary ToSummary(DynMoERoutingSummary trained)
        {
            var layers = trained.Layers.Select((layer, i) => new DynMoELayerRouting(
                layer.Layer, layer.Gating, layer.InitialExperts, layer.ActiveExperts, layer.MaximumExperts,
                i < _tokens.Length && _tokens[i] > 0 ? (double)_activated[i] / _tokens[i] : 0,
                i < _load.Length ? _load[i] : Array.Empty<long>(), Array.Empty<int>())).ToArray();
            return new DynMoERoutingSummary(layers, _tokens.Length == 0 ? 0 : _tokens[0]);
        }

        public IReadOnlyList<double[]> ByPosition()
            => _positionSum.Select((sums, m) => sums.Select((s, p) => _positionCount[m][p] == 0 ? double.NaN : (double)s / _positionCount[m][p]).ToArray()).ToArray();
    }

    /// <summary>What the model holds, as its stream saves it; the loading constructor and <see cref="Load"/> both read it with <see cref="ReadParts"/>.</summary>
    private sealed record Parts(ClassificationTask Task, SequenceInput Input, ICompiledSequenceEncoder Encoder, DynMoERoutingSummary Routing, string[] ClassNames);
}
