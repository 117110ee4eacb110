namespace Microsoft.ML.DynMoE.Inference;

/// <summary>
/// Checked reads of the DynMoE model streams: counts are bounded before anything is allocated, lengths are compared
/// with the dimensions already read, enums must be defined and weights finite. A damaged file fails with an
/// <see cref="InvalidDataException"/> that names the part, never an index error or a huge allocation.
/// </summary>
internal static class ModelDecoding
{
    /// <summary>Largest array one model part may hold (2^28 floats = 1 GiB).</summary>
    public const int MaximumArrayLength = 1 << 28;

    /// <summary>Largest width, feature count or output count any model records.</summary>
    public const int MaximumDimension = 1 << 24;

    // Arrays are read in chunks so a garbled length on a cut-short stream fails at the end of the data,
    // not after allocating what the length claims.
    private const int ChunkLength = 1 << 16;

    public static InvalidDataException Damaged(string message) => new($"{message} The DynMoE model file is damaged or was not written by this library.");

    /// <summary>Runs <paramref name="read"/>; a stream that ends early becomes an <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public static T Decode<T>(string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The DynMoE {what} ends before all its parts were read; the model file is truncated.", e);
        }
    }

    /// <summary>
    /// Runs a model loader that ML.NET invokes by reflection. ML.NET passes on only exceptions it has marked as its own
    /// and wraps any other in a <see cref="System.Reflection.TargetInvocationException"/>; marking the decoding errors
    /// lets the caller of <c>MLContext.Model.Load</c> see the <see cref="InvalidDataException"/> that names the part.
    /// </summary>
    public static T Load<T>(string what, Func<T> load)
    {
        try
        {
            return Decode(what, load);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException)
        {
            e.Data[MarkKey] = null;
            throw;
        }
    }

    /// <summary>
    /// The body of a loader's static <c>Create</c>: checks the environment and the version header, then runs
    /// <paramref name="load"/> as <see cref="Load{T}(string, Func{T})"/> does.
    /// </summary>
    public static T Load<T>(IHostEnvironment env, ModelLoadContext ctx, VersionInfo version, string what, Func<T> load)
    {
        Contracts.CheckValue(env, nameof(env));
        ctx.CheckAtModel(version);
        return Load(what, load);
    }

    /// <summary>The start of a <c>SaveModel</c>: checks the context and writes the version header.</summary>
    public static void BeginSave(IHost host, ModelSaveContext ctx, VersionInfo version)
    {
        host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(version);
    }

    // The key ML.NET's Contracts uses to recognise exceptions it may rethrow as they are.
    private const string MarkKey = "ML_IsMarked";

    /// <summary>Reads an int that must lie in [<paramref name="minimum"/>, <paramref name="maximum"/>].</summary>
    public static int ReadInt(BinaryReader reader, string part, int minimum, int maximum)
    {
        int value = reader.ReadInt32();
        if (value < minimum || value > maximum)
            throw Damaged($"The DynMoE model's {part} is {value}; it must be between {minimum} and {maximum}.");
        return value;
    }

    /// <summary>Reads an enum stored as an int and checks that the value is defined.</summary>
    public static TEnum ReadEnum<TEnum>(BinaryReader reader, string part)
        where TEnum : struct, Enum
    {
        int raw = reader.ReadInt32();
        var value = (TEnum)(object)raw;
        if (!Enum.IsDefined(value))
            throw Damaged($"The DynMoE model's {part} has the unknown value {raw}.");
        return value;
    }

    /// <summary>
    /// Reads a count-prefixed float array of exactly <paramref name="expectedLength"/> values (any length up to
    /// <see cref="MaximumArrayLength"/> when negative) whose values are all finite.
    /// </summary>
    public static float[] ReadArray(BinaryReader reader, string part, long expectedLength = -1)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > MaximumArrayLength)
            throw Damaged($"The DynMoE model's {part} records {count} values.");
        if (expectedLength >= 0 && count != expectedLength)
            throw Damaged($"The DynMoE model's {part} has {count} values; its dimensions require {expectedLength}.");

        var values = new float[Math.Min(count, ChunkLength)];
        for (int i = 0; i < count; i++)
        {
            if (i == values.Length)
                Array.Resize(ref values, (int)Math.Min(count, 2L * values.Length));
            values[i] = reader.ReadSingle();
            if (!float.IsFinite(values[i]))
                throw Damaged($"The DynMoE model's {part} holds a non-finite value ({values[i]}) at index {i}.");
        }
        return values;
    }

    /// <summary>Checks a product of dimensions against <see cref="MaximumArrayLength"/> and returns it.</summary>
    public static long Size(string part, params int[] dimensions)
    {
        long size = 1;
        foreach (int d in dimensions)
        {
            size *= d;
            if (size > MaximumArrayLength)
                throw Damaged($"The DynMoE model's {part} would need more than {MaximumArrayLength} values ({string.Join(" × ", dimensions)}).");
        }
        return size;
    }
}
