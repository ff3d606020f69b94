// Dates as the SQLite ledger stores them: GRDB's text format, `yyyy-MM-dd HH:mm:ss.SSS` in UTC. GRDB
// writes a `Date` through one shared `DateFormatter` (ICU behind a lock), which cost more than the
// rest of a call's row; a batch writes two dates a call and five a run. The same text is built here
// from the date's number; GRDB still reads it back.

package import Foundation
import GRDB

/// The ledger's text of a date, byte for byte what GRDB's `Date.databaseValue` writes.
package enum LedgerDate {
    /// `date` as the ledger stores it.
    static func value(_ date: Date) -> DatabaseValue {
        text(date).map(\.databaseValue) ?? date.databaseValue
    }

    /// `date` as `yyyy-MM-dd HH:mm:ss.SSS` in UTC, for dates from 1970 to 9999; `nil` outside them
    /// (where ICU's calendar rules, e.g. the Julian calendar before 1582, are left to GRDB's formatter).
    package static func text(_ date: Date) -> String? {
        // CoreFoundation's formatter rounds to the nearest millisecond
        // (CFDateFormatterCreateStringWithAbsoluteTime: `(at + kCFAbsoluteTimeIntervalSince1970) * 1000.0 + 0.5`)
        // and ICU then floors; the same arithmetic gives the same digits.
        let milliseconds = ((date.timeIntervalSinceReferenceDate + 978_307_200) * 1000 + 0.5).rounded(.down)
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000 else { return nil }
        let total = Int64(milliseconds)
        let (days, inDay) = total.quotientAndRemainder(dividingBy: 86_400_000)
        let (year, month, day) = civil(daysSince1970: days)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(23)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: " "))
        digits(inDay / 3_600_000, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(inDay / 60_000 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(inDay / 1000 % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(inDay % 1000, 3)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The proleptic Gregorian date of a day count from 1970-01-01 (`days` ≥ 0), after Howard Hinnant's
    /// `civil_from_days`.
    private static func civil(daysSince1970 days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468  // from 0000-03-01, so a leap day ends its year
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}
