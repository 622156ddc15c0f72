// The helpers seed 004's Java sample calls, written from what QFPay's docs
// say they do: the parameters sorted by name and joined as k=v with "&"
// (values as they are, not URL-encoded), and an upper-case hex MD5.
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.StringJoiner;
import java.util.TreeMap;

public class QFPayUtils {
    public static String getDataString(Map<String, String> params) {
        StringJoiner joined = new StringJoiner("&");
        for (Map.Entry<String, String> e : new TreeMap<>(params).entrySet()) {
            joined.add(e.getKey() + "=" + e.getValue());
        }
        return joined.toString();
    }

    public static String getMd5Value(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (byte b : digest) hex.append(String.format("%02X", b));
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
