using System.Globalization;

namespace Microsoft.ML.DynMoE.Cli
{
    /// <summary>An image size given on the command line as <c>HxW</c> or <c>HxWxC</c> (C = 0 when not given).</summary>
    internal readonly record struct ImageShape(int Height, int Width, int Channels)
    {
        public static ImageShape Parse(string text)
        {
            var parts = text.Split('x', 'X');
            var values = new int[parts.Length];
            bool ok = parts.Length is 2 or 3;
            for (int i = 0; ok && i < parts.Length; i++)
                ok = int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) && values[i] > 0;
            if (!ok)
                throw new CliUsageException($"--image-size '{text}' is not HxW or HxWxC with positive whole numbers, e.g. 28x28 or 32x32x3.");
            return new ImageShape(values[0], values[1], parts.Length == 3 ? values[2] : 0);
        }

        public override string ToString() => Channels > 0 ? $"{Height}x{Width}x{Channels}" : $"{Height}x{Width}";
    }
}
