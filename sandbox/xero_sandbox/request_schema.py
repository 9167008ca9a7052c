"""Field types of the request bodies the sandbox accepts, and of every schema they
reference (Xero OpenAPI spec v16.1.0). Descriptors: ("str", maxLength) ("uuid",)
("num",) ("int",) ("bool",) ("date",) ("datetime",) ("enum", values) ("obj", schema)
("arr", item) ("any",).

Generated from vendor/xero-openapi/xero_accounting.yaml by scripts/request_schema.py; do not edit.
"""

ROOTS = ('Contact', 'Invoice', 'Payment', 'CreditNote', 'Allocation', 'BankTransaction', 'BankTransfer', 'ManualJournal')

SCHEMAS: dict[str, dict[str, tuple]] = {
    'Account': {
        'Code': ('str', None), 'Name': ('str', 150), 'AccountID': ('uuid',), 'Type': ('enum',
        ('BANK', 'CURRENT', 'CURRLIAB', 'DEPRECIATN', 'DIRECTCOSTS', 'EQUITY', 'EXPENSE', 'FIXED',
        'INVENTORY', 'LIABILITY', 'NONCURRENT', 'OTHERINCOME', 'OVERHEADS', 'PREPAYMENT', 'REVENUE',
        'SALES', 'TERMLIAB', 'PAYG')), 'BankAccountNumber': ('str', None), 'Status': ('enum',
        ('ACTIVE', 'ARCHIVED', 'DELETED')), 'Description': ('str', None), 'BankAccountType':
        ('enum', ('BANK', 'CREDITCARD', 'PAYPAL', 'NONE', '')), 'CurrencyCode': ('enum', ('AED',
        'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM', 'BBD', 'BDT', 'BGN',
        'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN', 'BYR', 'BZD', 'CAD',
        'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC', 'CUP', 'CVE', 'CZK', 'DJF', 'DKK',
        'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP', 'GBP', 'GEL', 'GHS', 'GIP',
        'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG', 'HUF', 'IDR', 'ILS', 'INR', 'IQD',
        'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR', 'KMF', 'KPW', 'KRW', 'KWD', 'KYD',
        'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL', 'LYD', 'MAD', 'MDL', 'MGA', 'MKD',
        'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MXV', 'MYR', 'MZN', 'NAD',
        'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP', 'PKR', 'PLN', 'PYG',
        'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK', 'SGD', 'SHP', 'SKK',
        'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP', 'SZL', 'THB', 'TJS', 'TMT', 'TND',
        'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD', 'UYU', 'UZS', 'VEF', 'VES', 'VND',
        'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW', 'ZMK', 'ZWD')), 'TaxType':
        ('str', None), 'EnablePaymentsToAccount': ('bool',), 'ShowInExpenseClaims': ('bool',),
        'Class': ('enum', ('ASSET', 'EQUITY', 'EXPENSE', 'LIABILITY', 'REVENUE')), 'SystemAccount':
        ('enum', ('DEBTORS', 'CREDITORS', 'BANKCURRENCYGAIN', 'GST', 'GSTONIMPORTS', 'HISTORICAL',
        'REALISEDCURRENCYGAIN', 'RETAINEDEARNINGS', 'ROUNDING', 'TRACKINGTRANSFERS', 'UNPAIDEXPCLM',
        'UNREALISEDCURRENCYGAIN', 'WAGEPAYABLES', 'CISASSETS', 'CISASSET', 'CISLABOUR',
        'CISLABOUREXPENSE', 'CISLABOURINCOME', 'CISLIABILITY', 'CISMATERIALS', '')),
        'ReportingCode': ('str', None), 'ReportingCodeName': ('str', None), 'HasAttachments':
        ('bool',), 'UpdatedDateUTC': ('datetime',), 'AddToWatchlist': ('bool',), 'ValidationErrors':
        ('arr', ('obj', 'ValidationError')),
    },
    'AccountsPayable': {
        'Outstanding': ('num',), 'Overdue': ('num',),
    },
    'AccountsReceivable': {
        'Outstanding': ('num',), 'Overdue': ('num',),
    },
    'Address': {
        'AddressType': ('enum', ('POBOX', 'STREET')), 'AddressLine1': ('str', 500), 'AddressLine2':
        ('str', 500), 'AddressLine3': ('str', 500), 'AddressLine4': ('str', 500), 'City': ('str',
        255), 'Region': ('str', 255), 'PostalCode': ('str', 50), 'Country': ('str', 50),
        'AttentionTo': ('str', 255),
    },
    'Allocation': {
        'AllocationID': ('uuid',), 'Invoice': ('obj', 'Invoice'), 'Overpayment': ('obj',
        'Overpayment'), 'Prepayment': ('obj', 'Prepayment'), 'CreditNote': ('obj', 'CreditNote'),
        'Amount': ('num',), 'Date': ('date',), 'IsDeleted': ('bool',), 'StatusAttributeString':
        ('str', None), 'ValidationErrors': ('arr', ('obj', 'ValidationError')),
    },
    'Attachment': {
        'AttachmentID': ('uuid',), 'FileName': ('str', None), 'Url': ('str', None), 'MimeType':
        ('str', None), 'ContentLength': ('int',), 'IncludeOnline': ('bool',),
    },
    'Balances': {
        'AccountsReceivable': ('obj', 'AccountsReceivable'), 'AccountsPayable': ('obj',
        'AccountsPayable'),
    },
    'BankTransaction': {
        'Type': ('enum', ('RECEIVE', 'RECEIVE-OVERPAYMENT', 'RECEIVE-PREPAYMENT', 'SPEND',
        'SPEND-OVERPAYMENT', 'SPEND-PREPAYMENT', 'RECEIVE-TRANSFER', 'SPEND-TRANSFER')), 'Contact':
        ('obj', 'Contact'), 'LineItems': ('arr', ('obj', 'LineItem')), 'BankAccount': ('obj',
        'Account'), 'IsReconciled': ('bool',), 'Date': ('date',), 'Reference': ('str', None),
        'CurrencyCode': ('enum', ('AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG',
        'AZN', 'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN',
        'BWP', 'BYN', 'BYR', 'BZD', 'CAD', 'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC',
        'CUP', 'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD',
        'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG',
        'HUF', 'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR',
        'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL',
        'LYD', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK',
        'MXN', 'MXV', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN',
        'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR',
        'SDG', 'SEK', 'SGD', 'SHP', 'SKK', 'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP',
        'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD',
        'UYU', 'UZS', 'VEF', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR',
        'ZMW', 'ZMK', 'ZWD')), 'CurrencyRate': ('num',), 'Url': ('str', None), 'Status': ('enum',
        ('AUTHORISED', 'DELETED', 'VOIDED')), 'LineAmountTypes': ('enum', ('Exclusive', 'Inclusive',
        'NoTax')), 'SubTotal': ('num',), 'TotalTax': ('num',), 'Total': ('num',),
        'BankTransactionID': ('uuid',), 'PrepaymentID': ('uuid',), 'OverpaymentID': ('uuid',),
        'UpdatedDateUTC': ('datetime',), 'HasAttachments': ('bool',), 'StatusAttributeString':
        ('str', None), 'ValidationErrors': ('arr', ('obj', 'ValidationError')),
    },
    'BankTransfer': {
        'FromBankAccount': ('obj', 'Account'), 'ToBankAccount': ('obj', 'Account'), 'Amount':
        ('num',), 'Date': ('date',), 'BankTransferID': ('uuid',), 'CurrencyRate': ('num',),
        'FromBankTransactionID': ('uuid',), 'ToBankTransactionID': ('uuid',), 'FromIsReconciled':
        ('bool',), 'ToIsReconciled': ('bool',), 'Reference': ('str', None), 'HasAttachments':
        ('bool',), 'CreatedDateUTC': ('datetime',), 'Status': ('enum', ('AUTHORISED', 'DELETED')),
        'FromTracking': ('arr', ('obj', 'TrackingReference')), 'ToTracking': ('arr', ('obj',
        'TrackingReference')), 'ValidationErrors': ('arr', ('obj', 'ValidationError')),
    },
    'BatchPayment': {
        'Account': ('obj', 'Account'), 'Reference': ('str', 255), 'Particulars': ('str', 12),
        'Code': ('str', 12), 'Details': ('str', None), 'Narrative': ('str', 18), 'BatchPaymentID':
        ('uuid',), 'DateString': ('str', None), 'Date': ('date',), 'Amount': ('num',), 'Payments':
        ('arr', ('obj', 'Payment')), 'Type': ('enum', ('PAYBATCH', 'RECBATCH')), 'Status': ('enum',
        ('AUTHORISED', 'DELETED')), 'TotalAmount': ('num',), 'UpdatedDateUTC': ('datetime',),
        'IsReconciled': ('bool',), 'ValidationErrors': ('arr', ('obj', 'ValidationError')),
    },
    'BatchPaymentDetails': {
        'BankAccountNumber': ('str', None), 'BankAccountName': ('str', None), 'Details': ('str',
        None), 'Code': ('str', 12), 'Reference': ('str', 12),
    },
    'Bill': {
        'Day': ('int',), 'Type': ('enum', ('DAYSAFTERBILLDATE', 'DAYSAFTERBILLMONTH',
        'OFCURRENTMONTH', 'OFFOLLOWINGMONTH')),
    },
    'BrandingTheme': {
        'BrandingThemeID': ('uuid',), 'Name': ('str', None), 'LogoUrl': ('str', None), 'Type':
        ('enum', ('INVOICE',)), 'SortOrder': ('int',), 'CreatedDateUTC': ('datetime',),
    },
    'Contact': {
        'ContactID': ('uuid',), 'MergedToContactID': ('uuid',), 'ContactNumber': ('str', 50),
        'AccountNumber': ('str', 50), 'ContactStatus': ('enum', ('ACTIVE', 'ARCHIVED',
        'GDPRREQUEST')), 'Name': ('str', 255), 'FirstName': ('str', 255), 'LastName': ('str', 255),
        'CompanyNumber': ('str', 50), 'EmailAddress': ('str', 255), 'ContactPersons': ('arr',
        ('obj', 'ContactPerson')), 'BankAccountDetails': ('str', None), 'TaxNumber': ('str', 50),
        'TaxNumberType': ('enum', ('SSN', 'EIN', 'ITIN', 'ATIN')), 'AccountsReceivableTaxType':
        ('str', None), 'AccountsPayableTaxType': ('str', None), 'Addresses': ('arr', ('obj',
        'Address')), 'Phones': ('arr', ('obj', 'Phone')), 'IsSupplier': ('bool',), 'IsCustomer':
        ('bool',), 'SalesDefaultLineAmountType': ('enum', ('INCLUSIVE', 'EXCLUSIVE', 'NONE')),
        'PurchasesDefaultLineAmountType': ('enum', ('INCLUSIVE', 'EXCLUSIVE', 'NONE')),
        'DefaultCurrency': ('enum', ('AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG',
        'AZN', 'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN',
        'BWP', 'BYN', 'BYR', 'BZD', 'CAD', 'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC',
        'CUP', 'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD',
        'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG',
        'HUF', 'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR',
        'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL',
        'LYD', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK',
        'MXN', 'MXV', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN',
        'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR',
        'SDG', 'SEK', 'SGD', 'SHP', 'SKK', 'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP',
        'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD',
        'UYU', 'UZS', 'VEF', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR',
        'ZMW', 'ZMK', 'ZWD')), 'XeroNetworkKey': ('str', None), 'SalesDefaultAccountCode': ('str',
        None), 'PurchasesDefaultAccountCode': ('str', None), 'SalesTrackingCategories': ('arr',
        ('obj', 'SalesTrackingCategory')), 'PurchasesTrackingCategories': ('arr', ('obj',
        'SalesTrackingCategory')), 'TrackingCategoryName': ('str', None), 'TrackingCategoryOption':
        ('str', None), 'PaymentTerms': ('obj', 'PaymentTerm'), 'UpdatedDateUTC': ('datetime',),
        'ContactGroups': ('arr', ('obj', 'ContactGroup')), 'Website': ('str', None),
        'BrandingTheme': ('obj', 'BrandingTheme'), 'BatchPayments': ('obj', 'BatchPaymentDetails'),
        'Discount': ('num',), 'Balances': ('obj', 'Balances'), 'Attachments': ('arr', ('obj',
        'Attachment')), 'HasAttachments': ('bool',), 'ValidationErrors': ('arr', ('obj',
        'ValidationError')), 'HasValidationErrors': ('bool',), 'StatusAttributeString': ('str',
        None),
    },
    'ContactGroup': {
        'Name': ('str', None), 'Status': ('enum', ('ACTIVE', 'DELETED')), 'ContactGroupID':
        ('uuid',), 'Contacts': ('arr', ('obj', 'Contact')),
    },
    'ContactPerson': {
        'FirstName': ('str', None), 'LastName': ('str', None), 'EmailAddress': ('str', None),
        'IncludeInEmails': ('bool',),
    },
    'CreditNote': {
        'Type': ('enum', ('ACCPAYCREDIT', 'ACCRECCREDIT')), 'Contact': ('obj', 'Contact'), 'Date':
        ('date',), 'DueDate': ('date',), 'Status': ('enum', ('DRAFT', 'SUBMITTED', 'DELETED',
        'AUTHORISED', 'PAID', 'VOIDED')), 'LineAmountTypes': ('enum', ('Exclusive', 'Inclusive',
        'NoTax')), 'LineItems': ('arr', ('obj', 'LineItem')), 'SubTotal': ('num',), 'TotalTax':
        ('num',), 'Total': ('num',), 'CISDeduction': ('num',), 'CISRate': ('num',),
        'UpdatedDateUTC': ('datetime',), 'UpdatedDateUTCString': ('str', None), 'CurrencyCode':
        ('enum', ('AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM',
        'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN',
        'BYR', 'BZD', 'CAD', 'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC', 'CUP', 'CVE',
        'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP', 'GBP',
        'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG', 'HUF', 'IDR',
        'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR', 'KMF', 'KPW',
        'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL', 'LYD', 'MAD',
        'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MXV',
        'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP',
        'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK',
        'SGD', 'SHP', 'SKK', 'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP', 'SZL', 'THB',
        'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD', 'UYU', 'UZS',
        'VEF', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW', 'ZMK',
        'ZWD')), 'FullyPaidOnDate': ('date',), 'CreditNoteID': ('uuid',), 'CreditNoteNumber':
        ('str', None), 'Reference': ('str', None), 'SentToContact': ('bool',), 'CurrencyRate':
        ('num',), 'RemainingCredit': ('num',), 'Allocations': ('arr', ('obj', 'Allocation')),
        'AppliedAmount': ('num',), 'Payments': ('arr', ('obj', 'Payment')), 'BrandingThemeID':
        ('uuid',), 'StatusAttributeString': ('str', None), 'HasAttachments': ('bool',), 'HasErrors':
        ('bool',), 'ValidationErrors': ('arr', ('obj', 'ValidationError')), 'Warnings': ('arr',
        ('obj', 'ValidationError')), 'InvoiceAddresses': ('arr', ('obj', 'InvoiceAddress')),
    },
    'Invoice': {
        'Type': ('enum', ('ACCPAY', 'ACCPAYCREDIT', 'APOVERPAYMENT', 'APPREPAYMENT', 'ACCREC',
        'ACCRECCREDIT', 'AROVERPAYMENT', 'ARPREPAYMENT')), 'Contact': ('obj', 'Contact'),
        'LineItems': ('arr', ('obj', 'LineItem')), 'Date': ('date',), 'DueDate': ('date',),
        'LineAmountTypes': ('enum', ('Exclusive', 'Inclusive', 'NoTax')), 'InvoiceNumber': ('str',
        255), 'Reference': ('str', None), 'BrandingThemeID': ('uuid',), 'Url': ('str', None),
        'CurrencyCode': ('enum', ('AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG',
        'AZN', 'BAM', 'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN',
        'BWP', 'BYN', 'BYR', 'BZD', 'CAD', 'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC',
        'CUP', 'CVE', 'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD',
        'FKP', 'GBP', 'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG',
        'HUF', 'IDR', 'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR',
        'KMF', 'KPW', 'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL',
        'LYD', 'MAD', 'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK',
        'MXN', 'MXV', 'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN',
        'PGK', 'PHP', 'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR',
        'SDG', 'SEK', 'SGD', 'SHP', 'SKK', 'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP',
        'SZL', 'THB', 'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD',
        'UYU', 'UZS', 'VEF', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR',
        'ZMW', 'ZMK', 'ZWD')), 'CurrencyRate': ('num',), 'Status': ('enum', ('DRAFT', 'SUBMITTED',
        'DELETED', 'AUTHORISED', 'PAID', 'VOIDED')), 'SentToContact': ('bool',),
        'ExpectedPaymentDate': ('date',), 'PlannedPaymentDate': ('date',), 'CISDeduction': ('num',),
        'CISRate': ('num',), 'SubTotal': ('num',), 'TotalTax': ('num',), 'Total': ('num',),
        'TotalDiscount': ('num',), 'InvoiceID': ('uuid',), 'RepeatingInvoiceID': ('uuid',),
        'HasAttachments': ('bool',), 'IsDiscounted': ('bool',), 'Payments': ('arr', ('obj',
        'Payment')), 'Prepayments': ('arr', ('obj', 'Prepayment')), 'Overpayments': ('arr', ('obj',
        'Overpayment')), 'AmountDue': ('num',), 'AmountPaid': ('num',), 'FullyPaidOnDate':
        ('date',), 'AmountCredited': ('num',), 'UpdatedDateUTC': ('datetime',),
        'UpdatedDateUTCString': ('str', None), 'CreditNotes': ('arr', ('obj', 'CreditNote')),
        'Attachments': ('arr', ('obj', 'Attachment')), 'HasErrors': ('bool',),
        'StatusAttributeString': ('str', None), 'ValidationErrors': ('arr', ('obj',
        'ValidationError')), 'Warnings': ('arr', ('obj', 'ValidationError')), 'InvoiceAddresses':
        ('arr', ('obj', 'InvoiceAddress')),
    },
    'InvoiceAddress': {
        'InvoiceAddressType': ('enum', ('FROM', 'TO')), 'AddressLine1': ('str', None),
        'AddressLine2': ('str', None), 'AddressLine3': ('str', None), 'AddressLine4': ('str', None),
        'City': ('str', None), 'Region': ('str', None), 'PostalCode': ('str', None), 'Country':
        ('str', None),
    },
    'LineItem': {
        'LineItemID': ('uuid',), 'Description': ('str', None), 'Quantity': ('num',), 'UnitAmount':
        ('num',), 'ItemCode': ('str', None), 'AccountCode': ('str', None), 'AccountID': ('uuid',),
        'TaxType': ('str', None), 'TaxAmount': ('num',), 'Item': ('obj', 'LineItemItem'),
        'LineAmount': ('num',), 'Tracking': ('arr', ('obj', 'LineItemTracking')), 'DiscountRate':
        ('num',), 'DiscountAmount': ('num',), 'RepeatingInvoiceID': ('uuid',), 'Taxability':
        ('enum', ('TAXABLE', 'NON_TAXABLE', 'EXEMPT', 'PART_TAXABLE', 'NOT_APPLICABLE')),
        'SalesTaxCodeId': ('num',), 'TaxBreakdown': ('arr', ('obj', 'TaxBreakdownComponent')),
    },
    'LineItemItem': {
        'Code': ('str', 30), 'Name': ('str', 50), 'ItemID': ('uuid',),
    },
    'LineItemTracking': {
        'TrackingCategoryID': ('uuid',), 'TrackingOptionID': ('uuid',), 'Name': ('str', 100),
        'Option': ('str', None),
    },
    'ManualJournal': {
        'Narration': ('str', None), 'JournalLines': ('arr', ('obj', 'ManualJournalLine')), 'Date':
        ('date',), 'LineAmountTypes': ('enum', ('Exclusive', 'Inclusive', 'NoTax')), 'Status':
        ('enum', ('DRAFT', 'POSTED', 'DELETED', 'VOIDED', 'ARCHIVED')), 'Url': ('str', None),
        'ShowOnCashBasisReports': ('bool',), 'HasAttachments': ('bool',), 'UpdatedDateUTC':
        ('datetime',), 'ManualJournalID': ('uuid',), 'StatusAttributeString': ('str', None),
        'Warnings': ('arr', ('obj', 'ValidationError')), 'ValidationErrors': ('arr', ('obj',
        'ValidationError')), 'Attachments': ('arr', ('obj', 'Attachment')),
    },
    'ManualJournalLine': {
        'LineAmount': ('num',), 'AccountCode': ('str', None), 'AccountID': ('uuid',), 'Description':
        ('str', None), 'TaxType': ('str', None), 'Tracking': ('arr', ('obj', 'TrackingCategory')),
        'TaxAmount': ('num',), 'IsBlank': ('bool',),
    },
    'Overpayment': {
        'Type': ('enum', ('RECEIVE-OVERPAYMENT', 'SPEND-OVERPAYMENT', 'AROVERPAYMENT')), 'Contact':
        ('obj', 'Contact'), 'Date': ('date',), 'Status': ('enum', ('AUTHORISED', 'PAID', 'VOIDED')),
        'LineAmountTypes': ('enum', ('Exclusive', 'Inclusive', 'NoTax')), 'LineItems': ('arr',
        ('obj', 'LineItem')), 'SubTotal': ('num',), 'TotalTax': ('num',), 'Total': ('num',),
        'UpdatedDateUTC': ('datetime',), 'UpdatedDateUTCString': ('str', None), 'CurrencyCode':
        ('enum', ('AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM',
        'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN',
        'BYR', 'BZD', 'CAD', 'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC', 'CUP', 'CVE',
        'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP', 'GBP',
        'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG', 'HUF', 'IDR',
        'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR', 'KMF', 'KPW',
        'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL', 'LYD', 'MAD',
        'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MXV',
        'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP',
        'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK',
        'SGD', 'SHP', 'SKK', 'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP', 'SZL', 'THB',
        'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD', 'UYU', 'UZS',
        'VEF', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW', 'ZMK',
        'ZWD')), 'OverpaymentID': ('uuid',), 'CurrencyRate': ('num',), 'RemainingCredit': ('num',),
        'Allocations': ('arr', ('obj', 'Allocation')), 'AppliedAmount': ('num',), 'Payments':
        ('arr', ('obj', 'Payment')), 'HasAttachments': ('bool',), 'Reference': ('str', None),
        'Attachments': ('arr', ('obj', 'Attachment')),
    },
    'Payment': {
        'Invoice': ('obj', 'Invoice'), 'CreditNote': ('obj', 'CreditNote'), 'Prepayment': ('obj',
        'Prepayment'), 'Overpayment': ('obj', 'Overpayment'), 'InvoiceNumber': ('str', None),
        'CreditNoteNumber': ('str', None), 'BatchPayment': ('obj', 'BatchPayment'), 'Account':
        ('obj', 'Account'), 'Code': ('str', None), 'Date': ('date',), 'CurrencyRate': ('num',),
        'Amount': ('num',), 'BankAmount': ('num',), 'Reference': ('str', None), 'IsReconciled':
        ('bool',), 'Status': ('enum', ('AUTHORISED', 'DELETED')), 'PaymentType': ('enum',
        ('ACCRECPAYMENT', 'ACCPAYPAYMENT', 'ARCREDITPAYMENT', 'APCREDITPAYMENT',
        'AROVERPAYMENTPAYMENT', 'ARPREPAYMENTPAYMENT', 'APPREPAYMENTPAYMENT',
        'APOVERPAYMENTPAYMENT')), 'UpdatedDateUTC': ('datetime',), 'UpdatedDateUTCString': ('str',
        None), 'PaymentID': ('uuid',), 'BatchPaymentID': ('uuid',), 'BankAccountNumber': ('str',
        None), 'Particulars': ('str', None), 'Details': ('str', None), 'HasAccount': ('bool',),
        'HasValidationErrors': ('bool',), 'StatusAttributeString': ('str', None),
        'ValidationErrors': ('arr', ('obj', 'ValidationError')), 'Warnings': ('arr', ('obj',
        'ValidationError')),
    },
    'PaymentTerm': {
        'Bills': ('obj', 'Bill'), 'Sales': ('obj', 'Bill'),
    },
    'Phone': {
        'PhoneType': ('enum', ('DEFAULT', 'DDI', 'MOBILE', 'FAX', 'OFFICE')), 'PhoneNumber': ('str',
        50), 'PhoneAreaCode': ('str', 10), 'PhoneCountryCode': ('str', 20),
    },
    'Prepayment': {
        'Type': ('enum', ('RECEIVE-PREPAYMENT', 'SPEND-PREPAYMENT', 'ARPREPAYMENT',
        'APPREPAYMENT')), 'Contact': ('obj', 'Contact'), 'Date': ('date',), 'Status': ('enum',
        ('AUTHORISED', 'PAID', 'VOIDED')), 'LineAmountTypes': ('enum', ('Exclusive', 'Inclusive',
        'NoTax')), 'LineItems': ('arr', ('obj', 'LineItem')), 'SubTotal': ('num',), 'TotalTax':
        ('num',), 'Total': ('num',), 'Reference': ('str', None), 'InvoiceNumber': ('str', None),
        'UpdatedDateUTC': ('datetime',), 'UpdatedDateUTCString': ('str', None), 'CurrencyCode':
        ('enum', ('AED', 'AFN', 'ALL', 'AMD', 'ANG', 'AOA', 'ARS', 'AUD', 'AWG', 'AZN', 'BAM',
        'BBD', 'BDT', 'BGN', 'BHD', 'BIF', 'BMD', 'BND', 'BOB', 'BRL', 'BSD', 'BTN', 'BWP', 'BYN',
        'BYR', 'BZD', 'CAD', 'CDF', 'CHF', 'CLF', 'CLP', 'CNY', 'COP', 'CRC', 'CUC', 'CUP', 'CVE',
        'CZK', 'DJF', 'DKK', 'DOP', 'DZD', 'EEK', 'EGP', 'ERN', 'ETB', 'EUR', 'FJD', 'FKP', 'GBP',
        'GEL', 'GHS', 'GIP', 'GMD', 'GNF', 'GTQ', 'GYD', 'HKD', 'HNL', 'HRK', 'HTG', 'HUF', 'IDR',
        'ILS', 'INR', 'IQD', 'IRR', 'ISK', 'JMD', 'JOD', 'JPY', 'KES', 'KGS', 'KHR', 'KMF', 'KPW',
        'KRW', 'KWD', 'KYD', 'KZT', 'LAK', 'LBP', 'LKR', 'LRD', 'LSL', 'LTL', 'LVL', 'LYD', 'MAD',
        'MDL', 'MGA', 'MKD', 'MMK', 'MNT', 'MOP', 'MRO', 'MRU', 'MUR', 'MVR', 'MWK', 'MXN', 'MXV',
        'MYR', 'MZN', 'NAD', 'NGN', 'NIO', 'NOK', 'NPR', 'NZD', 'OMR', 'PAB', 'PEN', 'PGK', 'PHP',
        'PKR', 'PLN', 'PYG', 'QAR', 'RON', 'RSD', 'RUB', 'RWF', 'SAR', 'SBD', 'SCR', 'SDG', 'SEK',
        'SGD', 'SHP', 'SKK', 'SLE', 'SLL', 'SOS', 'SRD', 'STD', 'STN', 'SVC', 'SYP', 'SZL', 'THB',
        'TJS', 'TMT', 'TND', 'TOP', 'TRY', 'TTD', 'TWD', 'TZS', 'UAH', 'UGX', 'USD', 'UYU', 'UZS',
        'VEF', 'VES', 'VND', 'VUV', 'WST', 'XAF', 'XCD', 'XOF', 'XPF', 'YER', 'ZAR', 'ZMW', 'ZMK',
        'ZWD')), 'PrepaymentID': ('uuid',), 'BrandingThemeID': ('uuid',), 'CurrencyRate': ('num',),
        'RemainingCredit': ('num',), 'Allocations': ('arr', ('obj', 'Allocation')), 'Payments':
        ('arr', ('obj', 'Payment')), 'AppliedAmount': ('num',), 'HasAttachments': ('bool',),
        'Attachments': ('arr', ('obj', 'Attachment')),
    },
    'SalesTrackingCategory': {
        'TrackingCategoryName': ('str', None), 'TrackingOptionName': ('str', None),
    },
    'TaxBreakdownComponent': {
        'TaxComponentId': ('uuid',), 'Type': ('enum', ('SYSGST/USCOUNTRY', 'SYSGST/USSTATE',
        'SYSGST/USCOUNTY', 'SYSGST/USCITY', 'SYSGST/USSPECIAL')), 'Name': ('str', None),
        'TaxPercentage': ('num',), 'TaxAmount': ('num',), 'TaxableAmount': ('num',),
        'NonTaxableAmount': ('num',), 'ExemptAmount': ('num',), 'StateAssignedNo': ('str', None),
        'JurisdictionRegion': ('str', None),
    },
    'TrackingCategory': {
        'TrackingCategoryID': ('uuid',), 'TrackingOptionID': ('uuid',), 'Name': ('str', 100),
        'Option': ('str', 100), 'Status': ('enum', ('ACTIVE', 'ARCHIVED', 'DELETED')), 'Options':
        ('arr', ('obj', 'TrackingOption')),
    },
    'TrackingOption': {
        'TrackingOptionID': ('uuid',), 'Name': ('str', 100), 'Status': ('enum', ('ACTIVE',
        'ARCHIVED', 'DELETED')), 'TrackingCategoryID': ('uuid',),
    },
    'TrackingReference': {
        'TrackingCategoryID': ('uuid',), 'TrackingOptionID': ('uuid',), 'Name': ('str', 100),
        'Option': ('str', None),
    },
    'ValidationError': {
        'Message': ('str', None),
    },
}
