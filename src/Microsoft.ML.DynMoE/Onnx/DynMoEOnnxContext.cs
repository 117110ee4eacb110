using Google.Protobuf;
using Microsoft.ML.Data;
using Microsoft.ML.DynMoE.Onnx.Proto;
using Microsoft.ML.Model.OnnxConverter;

namespace Microsoft.ML.DynMoE.Onnx;

/// <summary>
/// ML.NET's <see cref="OnnxContext"/> written onto our own ONNX protobuf messages. The DynMoE model parameters emit
/// their nodes through <see cref="OnnxContext"/> (ML.NET's ONNX-save interfaces), so the same node-emitting code
/// serves ML.NET's converter (whole-pipeline export) and <see cref="DynMoEOnnxExporter"/> (this context).
/// </summary>
internal sealed class DynMoEOnnxContext : OnnxContext
{
    /// <summary>The opset the standalone exporter declares (the emitted nodes themselves also hold from opset 11).</summary>
    public const int DefaultOpSetVersion = 17;

    private readonly GraphProto _graph = new() { Name = "DynMoE" };
    private readonly HashSet<string> _usedNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _columnToVariable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<long>> _shapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TypeProto> _types = new(StringComparer.Ordinal);

    private const string OnnxDomain = "";

    public DynMoEOnnxContext(int opSetVersion = DefaultOpSetVersion) => OpSetVersion = opSetVersion;

    public int OpSetVersion { get; }

    /// <summary>Declares a graph input for a column: <paramref name="elementType"/> with a dynamic batch dimension.</summary>
    public string AddInput(string columnName, TensorProto.Types.DataType elementType, long width)
    {
        string variable = Reserve(columnName);
        _columnToVariable[columnName] = variable;
        Record(variable, elementType, width);
        _graph.Input.Add(ValueInfo(variable));
        return variable;
    }

    /// <summary>Marks an existing variable as a graph output under <paramref name="outputName"/> (an Identity node when the names differ).</summary>
    public void AddOutput(string variable, string outputName, TensorProto.Types.DataType elementType, long width)
    {
        if (variable != outputName)
        {
            if (!_usedNames.Add(outputName))
                throw new InvalidOperationException($"The ONNX output name '{outputName}' is already used in the graph.");
            CreateNode("Identity", variable, outputName, GetNodeName("Identity"), OnnxDomain);
        }
        Record(outputName, elementType, width);
        _graph.Output.Add(ValueInfo(outputName));
    }

    /// <summary>The finished model, with <paramref name="metadata"/> as ONNX metadata properties.</summary>
    public ModelProto ToModel(IEnumerable<KeyValuePair<string, string>> metadata, string docString)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "Microsoft.ML.DynMoE",
            ProducerVersion = typeof(DynMoEOnnxContext).Assembly.GetName().Version?.ToString() ?? "",
            Domain = "ai.dynmoe",
            ModelVersion = 1,
            DocString = docString,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpSetVersion });
        foreach (var pair in metadata)
            model.MetadataProps.Add(new StringStringEntryProto { Key = pair.Key, Value = pair.Value });
        return model;
    }

    public override string GetNodeName(string prefix) => Reserve(prefix);

    public override bool IsVariableDefined(string variableName) => _usedNames.Contains(variableName);

    public override bool ContainsColumn(string colName) => _columnToVariable.ContainsKey(colName);

    public override void CheckOpSetVersion(int thisTransformerMinumumOpSetVersion, string registerTransformerName)
    {
        if (thisTransformerMinumumOpSetVersion > OpSetVersion)
            throw new NotSupportedException($"{registerTransformerName} needs ONNX opset {thisTransformerMinumumOpSetVersion} or later; this export targets opset {OpSetVersion}.");
    }

    public override void RemoveColumn(string colName, bool removeVariable = false) => _columnToVariable.Remove(colName);

    public override void RemoveVariable(string variableName, bool removeColumn)
    {
        if (removeColumn)
        {
            foreach (var column in _columnToVariable.Where(p => p.Value == variableName).Select(p => p.Key).ToList())
                _columnToVariable.Remove(column);
        }
    }

    public override void RemoveInputVariable(string variableName)
    {
        var input = _graph.Input.FirstOrDefault(i => i.Name == variableName);
        if (input is not null)
            _graph.Input.Remove(input);
    }

    public override string GetVariableName(string colName)
        => _columnToVariable.TryGetValue(colName, out var variable) ? variable : colName;

    public override string AddIntermediateVariable(DataViewType type, string colName, bool skip = false)
    {
        string variable = Reserve(colName);
        if (type is null)
            return variable; // an intermediate value, not a column
        _columnToVariable[colName] = variable;
        var (element, width) = Describe(type);
        Record(variable, element, width);
        return variable;
    }

    public override OnnxNode CreateNode(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name, string domain = null!)
    {
        // As ML.NET's own context: no domain means the ONNX-ML domain, so standard operators must pass "" explicitly
        // (and a node that forgets fails here the same way it would in ML.NET's converter).
        var node = new NodeProto { OpType = opType, Name = name, Domain = domain ?? "ai.onnx.ml" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        foreach (var output in node.Output)
            _usedNames.Add(output);
        _graph.Node.Add(node);
        return new Node(node);
    }

    public override OnnxVersion GetOnnxVersion() => OnnxVersion.Stable;

    public override List<long> RetrieveShapeOrNull(string variableName)
        => _shapes.TryGetValue(variableName, out var shape) ? new List<long>(shape) : null!;

    public override string AddInitializer(bool value, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, null!, name, makeUniqueName);

    public override string AddInitializer(float value, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, null!, name, makeUniqueName);

    public override string AddInitializer(int value, Type type, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, type, null!, name, makeUniqueName);

    public override string AddInitializer(string value, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, null!, name, makeUniqueName);

    public override string AddInitializer(long value, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, null!, name, makeUniqueName);

    public override string AddInitializer(double value, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, null!, name, makeUniqueName);

    public override string AddInitializer(ulong value, bool isUint64, string name = null!, bool makeUniqueName = true)
        => AddInitializer(new[] { value }, isUint64, null!, name, makeUniqueName);

    public override string AddInitializer(IEnumerable<bool> values, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var tensor = NewTensor(TensorProto.Types.DataType.Bool, dims, name, makeUniqueName);
        tensor.Int32Data.AddRange(values.Select(v => v ? 1 : 0));
        return Add(tensor);
    }

    public override string AddInitializer(IEnumerable<float> values, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var tensor = NewTensor(TensorProto.Types.DataType.Float, dims, name, makeUniqueName);
        // Raw little-endian bytes: compact, and bit-exact for every float including NaN payloads.
        float[] array = values as float[] ?? values.ToArray();
        var bytes = new byte[array.Length * sizeof(float)];
        Buffer.BlockCopy(array, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian)
        {
            for (int i = 0; i < bytes.Length; i += 4)
                Array.Reverse(bytes, i, 4);
        }
        tensor.RawData = ByteString.CopyFrom(bytes);
        return Add(tensor);
    }

    public override string AddInitializer(IEnumerable<int> values, Type type, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var element = type == typeof(uint) ? TensorProto.Types.DataType.Uint32
            : type == typeof(short) ? TensorProto.Types.DataType.Int16
            : type == typeof(ushort) ? TensorProto.Types.DataType.Uint16
            : type == typeof(sbyte) ? TensorProto.Types.DataType.Int8
            : type == typeof(byte) ? TensorProto.Types.DataType.Uint8
            : TensorProto.Types.DataType.Int32;
        var tensor = NewTensor(element, dims, name, makeUniqueName);
        if (element == TensorProto.Types.DataType.Uint32)
            tensor.Uint64Data.AddRange(values.Select(v => (ulong)(uint)v));
        else
            tensor.Int32Data.AddRange(values);
        return Add(tensor);
    }

    public override string AddInitializer(IEnumerable<string> values, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var tensor = NewTensor(TensorProto.Types.DataType.String, dims, name, makeUniqueName);
        tensor.StringData.AddRange(values.Select(ByteString.CopyFromUtf8));
        return Add(tensor);
    }

    public override string AddInitializer(IEnumerable<long> values, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var tensor = NewTensor(TensorProto.Types.DataType.Int64, dims, name, makeUniqueName);
        tensor.Int64Data.AddRange(values);
        return Add(tensor);
    }

    public override string AddInitializer(IEnumerable<double> values, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var tensor = NewTensor(TensorProto.Types.DataType.Double, dims, name, makeUniqueName);
        tensor.DoubleData.AddRange(values);
        return Add(tensor);
    }

    public override string AddInitializer(IEnumerable<ulong> values, bool isUint64, IEnumerable<long> dims, string name = null!, bool makeUniqueName = true)
    {
        var tensor = NewTensor(isUint64 ? TensorProto.Types.DataType.Uint64 : TensorProto.Types.DataType.Uint32, dims, name, makeUniqueName);
        tensor.Uint64Data.AddRange(values);
        return Add(tensor);
    }

    private TensorProto NewTensor(TensorProto.Types.DataType type, IEnumerable<long>? dims, string? name, bool makeUniqueName)
    {
        string tensorName = makeUniqueName || name is null ? Reserve(name ?? "initializer") : name;
        _usedNames.Add(tensorName);
        var tensor = new TensorProto { Name = tensorName, DataType = (int)type };
        if (dims is not null)
            tensor.Dims.AddRange(dims);
        return tensor;
    }

    private string Add(TensorProto tensor)
    {
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private string Reserve(string name)
    {
        string candidate = name;
        for (int i = 0; !_usedNames.Add(candidate); i++)
            candidate = $"{name}_{i}";
        return candidate;
    }

    private void Record(string variable, TensorProto.Types.DataType element, long width)
    {
        _shapes[variable] = new List<long> { -1, width };
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = width });
        _types[variable] = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)element, Shape = shape } };
    }

    private ValueInfoProto ValueInfo(string variable) => new() { Name = variable, Type = _types[variable] };

    /// <summary>ONNX element type and row width of an ML.NET column type (scalars are one-wide rows).</summary>
    internal static (TensorProto.Types.DataType Element, long Width) Describe(DataViewType type)
    {
        long width = type is VectorDataViewType vector ? vector.Size : 1;
        var item = type.GetItemType();
        var element = item switch
        {
            KeyDataViewType => TensorProto.Types.DataType.Uint32,
            BooleanDataViewType => TensorProto.Types.DataType.Bool,
            TextDataViewType => TensorProto.Types.DataType.String,
            _ when item.RawType == typeof(float) => TensorProto.Types.DataType.Float,
            _ when item.RawType == typeof(double) => TensorProto.Types.DataType.Double,
            _ when item.RawType == typeof(long) => TensorProto.Types.DataType.Int64,
            _ when item.RawType == typeof(int) => TensorProto.Types.DataType.Int32,
            _ when item.RawType == typeof(uint) => TensorProto.Types.DataType.Uint32,
            _ => throw new NotSupportedException($"Columns of type {type} have no ONNX counterpart in the DynMoE exporter."),
        };
        return (element, width);
    }

    /// <summary>ML.NET's <see cref="OnnxNode"/> over a <see cref="NodeProto"/>.</summary>
    private sealed class Node : OnnxNode
    {
        private readonly NodeProto _node;

        public Node(NodeProto node) => _node = node;

        public override void AddAttribute(string argName, double value) => Add(argName, AttributeProto.Types.AttributeType.Float, a => a.F = (float)value);

        public override void AddAttribute(string argName, long value) => Add(argName, AttributeProto.Types.AttributeType.Int, a => a.I = value);

        public override void AddAttribute(string argName, ReadOnlyMemory<char> value) => AddAttribute(argName, value.ToString());

        public override void AddAttribute(string argName, string value) => Add(argName, AttributeProto.Types.AttributeType.String, a => a.S = ByteString.CopyFromUtf8(value));

        public override void AddAttribute(string argName, bool value) => AddAttribute(argName, value ? 1L : 0L);

        public override void AddAttribute(string argName, IEnumerable<double> value) => Add(argName, AttributeProto.Types.AttributeType.Floats, a => a.Floats.AddRange(value.Select(v => (float)v)));

        public override void AddAttribute(string argName, IEnumerable<float> value) => Add(argName, AttributeProto.Types.AttributeType.Floats, a => a.Floats.AddRange(value));

        public override void AddAttribute(string argName, IEnumerable<long> value) => Add(argName, AttributeProto.Types.AttributeType.Ints, a => a.Ints.AddRange(value));

        public override void AddAttribute(string argName, IEnumerable<ReadOnlyMemory<char>> value) => AddAttribute(argName, value.Select(v => v.ToString()));

        public override void AddAttribute(string argName, string[] value) => AddAttribute(argName, (IEnumerable<string>)value);

        public override void AddAttribute(string argName, IEnumerable<string> value) => Add(argName, AttributeProto.Types.AttributeType.Strings, a => a.Strings.AddRange(value.Select(ByteString.CopyFromUtf8)));

        public override void AddAttribute(string argName, IEnumerable<bool> value) => AddAttribute(argName, value.Select(v => v ? 1L : 0L));

        public override void AddAttribute(string argName, Type t)
        {
            var element = t == typeof(float) ? TensorProto.Types.DataType.Float
                : t == typeof(bool) ? TensorProto.Types.DataType.Bool
                : t == typeof(long) ? TensorProto.Types.DataType.Int64
                : t == typeof(int) ? TensorProto.Types.DataType.Int32
                : t == typeof(uint) ? TensorProto.Types.DataType.Uint32
                : t == typeof(double) ? TensorProto.Types.DataType.Double
                : throw new NotSupportedException($"No ONNX element type for {t}.");
            AddAttribute(argName, (long)element);
        }

        private void Add(string name, AttributeProto.Types.AttributeType type, Action<AttributeProto> set)
        {
            var attribute = new AttributeProto { Name = name, Type = type };
            set(attribute);
            _node.Attribute.Add(attribute);
        }
    }
}
